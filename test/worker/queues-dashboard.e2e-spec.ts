import { Platform } from '../e2e/support/platform';
import { startService, stopService, type StartedService } from '../e2e/support/service';

jest.setTimeout(90_000);

// Bull Board at /queues: admins only, over a bearer header or the cookie a
// one-time `?token=` visit sets; the page lists the worker's queues.

describe('queue dashboard (/queues)', () => {
  let started: StartedService;
  let p: Platform;
  let base: string;

  beforeAll(async () => {
    started = await startService();
    p = new Platform(started.api);
    base = started.service.baseUrl;
  }, 90_000);

  afterAll(() => stopService(started));

  it('refuses callers without a token (401) and non-admins (403), as problem+json', async () => {
    const anonymous = await fetch(`${base}/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    const buyer = await fetch(`${base}/queues`, { headers: { authorization: `Bearer ${await p.buyer('b-dash')}` } });
    expect(buyer.status).toBe(403);
    const forged = await fetch(`${base}/queues/api/queues`, { headers: { cookie: 'aftersales_queues=not-a-token' } });
    expect(forged.status).toBe(401);
  });

  it('shows admins every queue the worker runs', async () => {
    const admin = await p.admin();
    const page = await fetch(`${base}/queues`, { headers: { authorization: `Bearer ${admin}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const api = await fetch(`${base}/queues/api/queues`, { headers: { authorization: `Bearer ${admin}` } });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(expect.arrayContaining(['deadlines', 'insurance', 'pickups', 'refunds', 'webhooks']));
  });

  it('turns a ?token= visit into an HttpOnly cookie scoped to /queues and drops the token from the address', async () => {
    const admin = await p.admin();
    const visit = await fetch(`${base}/queues?token=${encodeURIComponent(admin)}`, { redirect: 'manual' });
    expect(visit.status).toBe(303);
    expect(visit.headers.get('location')).toBe('/queues');
    const cookie = visit.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^aftersales_queues=[^;]+; Path=\/queues; HttpOnly; SameSite=Strict/);
    const again = await fetch(`${base}/queues/api/queues`, { headers: { cookie: cookie.split(';')[0] } });
    expect(again.status).toBe(200);
  });
});
