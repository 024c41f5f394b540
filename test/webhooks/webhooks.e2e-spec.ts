import { uniqueId } from '../e2e/support/orders';
import { expectProblem, Platform } from '../e2e/support/platform';
import { startService, stopService, type StartedService } from '../e2e/support/service';
import { eventually, signedWith, WebhookReceiver } from './support/receiver';

jest.setTimeout(120_000);

// Outbound webhooks through the service as `npm start` runs it: an admin
// subscribes a local receiver, cases move, the receiver gets their events,
// signed, in order; a receiver that refuses leaves a dead letter an admin
// lists and replays. The secret goes in once and never comes back out.

const SECRET = 'whsec-e2e-0123456789abcdef';
const MERCHANT = 'm-hooks';

describe('outbound webhooks (service)', () => {
  let started: StartedService;
  let p: Platform;
  let receiver: WebhookReceiver;
  let admin: string;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    started = await startService({ WORKER_RECONCILE_INTERVAL_MS: '1000' });
    p = new Platform(started.api);
    admin = await p.admin();
  }, 120_000);

  afterAll(async () => {
    await stopService(started);
    await receiver?.close();
  });

  const subscribe = async (events: string[], url = receiver.url) => {
    const response = await p.api.post('/v1/webhooks', { url, events, secret: SECRET }, { token: admin });
    expect(response.status).toBe(201);
    return response;
  };

  const openAndWithdraw = async (): Promise<string> => {
    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    const { orderId } = await p.order({ buyerId, merchantId: MERCHANT, businessLine: 'home' });
    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false });
    await p.mustAct(caseId, 'withdraw', buyer);
    return caseId;
  };

  it('delivers the subscribed events of a case in the order of its stream, signed, and no other types', async () => {
    const all = (await subscribe(['ReturnRequested', 'DeadlineSet', 'CaseWithdrawn', 'CaseClosed'])).body;
    const some = (await subscribe(['ReturnRequested', 'CaseClosed'])).body;
    expect(all).toEqual({ webhookId: expect.any(String), url: receiver.url, events: ['ReturnRequested', 'DeadlineSet', 'CaseWithdrawn', 'CaseClosed'], createdAt: expect.any(String) });

    const caseId = await openAndWithdraw();
    const stream = (await p.events(caseId)).filter((e) => ['ReturnRequested', 'DeadlineSet', 'CaseWithdrawn', 'CaseClosed'].includes(e.type));
    const ofCase = (webhookId: string) => receiver.of(webhookId).filter((r) => r.body.caseId === caseId);
    await eventually('every subscribed event of the case', () => (ofCase(all.webhookId).length >= stream.length && ofCase(some.webhookId).length >= 2 ? true : undefined));

    expect(ofCase(all.webhookId).map((r) => r.body.type)).toEqual(stream.map((e) => e.type));
    expect(ofCase(all.webhookId).map((r) => r.body.eventId)).toEqual(stream.map((e) => e.id));
    expect(ofCase(some.webhookId).map((r) => r.body.type)).toEqual(['ReturnRequested', 'CaseClosed']);
    for (const r of [...ofCase(all.webhookId), ...ofCase(some.webhookId)]) {
      expect(signedWith(SECRET, r)).toBe(true);
      expect(r.headers['x-event-id']).toBe(r.body.eventId);
      expect(r.headers['idempotency-key']).toBe(r.body.eventId);
      expect(r.body).toMatchObject({ caseId, position: expect.any(Number), occurredAt: expect.any(String), data: expect.any(Object) });
    }
    for (const webhookId of [all.webhookId, some.webhookId]) expect((await p.api.request('DELETE', `/v1/webhooks/${webhookId}`, { token: admin })).status).toBe(204);
  });

  it('lists subscriptions without their secrets and cancels them', async () => {
    const created = await subscribe(['RefundSettled']);
    expect(created.text).not.toContain(SECRET);
    // Events no webhook reads come after it in the log; the list still answers at once with it (milliseconds:
    // it waits for the reactor to take in the subscription, not for the checkpoint it stores once a second for those events).
    await p.order({ buyerId: uniqueId('b'), merchantId: MERCHANT, businessLine: 'home' });
    const asked = Date.now();
    const listed = await p.api.get('/v1/webhooks', { token: admin });
    expect(Date.now() - asked).toBeLessThan(500);
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(SECRET);
    expect(listed.body.items).toContainEqual(created.body);
    for (const item of listed.body.items) expect(Object.keys(item).sort()).toEqual(['createdAt', 'events', 'url', 'webhookId']);

    expect((await p.api.request('DELETE', `/v1/webhooks/${created.body.webhookId}`, { token: admin })).status).toBe(204);
    expect((await p.api.get('/v1/webhooks', { token: admin })).body.items).not.toContainEqual(created.body);
    expectProblem(await p.api.request('DELETE', `/v1/webhooks/${created.body.webhookId}`, { token: admin }), 404);
    expectProblem(await p.api.request('DELETE', `/v1/webhooks/${uniqueId('w')}`, { token: admin }), 404);
  });

  it('a receiver that refuses: a dead letter an admin lists and replays once it is fixed', async () => {
    let fixed = false;
    const previous = receiver.answer;
    receiver.answer = (r) => (fixed || r.headers['x-webhook-id'] !== hook.webhookId ? { status: 200 } : { status: 410 });
    const hook = (await subscribe(['ReturnRequested', 'CaseWithdrawn'])).body;
    const caseId = await openAndWithdraw();

    const dead = await eventually('a dead letter', async () => {
      const response = await p.api.get(`/v1/webhooks/dead-letters?webhookId=${hook.webhookId}`, { token: admin });
      expect(response.status).toBe(200);
      return response.body.items[0];
    });
    expect(dead).toMatchObject({ webhookId: hook.webhookId, caseId, type: 'ReturnRequested', attempts: 1, lastError: expect.stringContaining('410'), failedAt: expect.any(String) });
    // The case's next event waits behind the dead letter.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receiver.of(hook.webhookId).map((r) => r.body.type)).toEqual(['ReturnRequested']);

    fixed = true;
    const replay = await p.api.post(`/v1/webhooks/dead-letters/${dead.deliveryId}/replay`, undefined, { token: admin });
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ deliveryId: dead.deliveryId, webhookId: hook.webhookId, position: expect.any(Number) });
    await eventually('the replay and the event behind it', () => (receiver.of(hook.webhookId).length >= 3 ? true : undefined));
    expect(receiver.of(hook.webhookId).map((r) => r.body.type)).toEqual(['ReturnRequested', 'ReturnRequested', 'CaseWithdrawn']);
    expect((await p.api.get(`/v1/webhooks/dead-letters?webhookId=${hook.webhookId}`, { token: admin })).body.items).toEqual([]);
    expectProblem(await p.api.post(`/v1/webhooks/dead-letters/${dead.deliveryId}/replay`, undefined, { token: admin }), 409);
    expectProblem(await p.api.post(`/v1/webhooks/dead-letters/${uniqueId('d')}/replay`, undefined, { token: admin }), 404);
    receiver.answer = previous;
    await p.api.request('DELETE', `/v1/webhooks/${hook.webhookId}`, { token: admin });
  });

  it('a POST retried with its Idempotency-Key subscribes once', async () => {
    const body = { url: receiver.url, events: ['CaseEscalated'], secret: SECRET };
    const key = uniqueId('key');
    const first = await p.api.post('/v1/webhooks', body, { token: admin, idempotencyKey: key });
    const again = await p.api.post('/v1/webhooks', body, { token: admin, idempotencyKey: key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const listed = (await p.api.get('/v1/webhooks', { token: admin })).body.items.filter((w: { events: string[] }) => w.events.includes('CaseEscalated'));
    expect(listed).toEqual([first.body]);
    await p.api.request('DELETE', `/v1/webhooks/${first.body.webhookId}`, { token: admin });
  });

  it.each([
    ['a url that is not https', { url: 'http://hooks.example.com/x' }, 'url'],
    ['a url of another scheme', { url: 'ftp://127.0.0.1/x' }, 'url'],
    ['a url with credentials', { url: 'https://user:pw@hooks.example.com/x' }, 'url'],
    ['not a url', { url: 'hooks' }, 'url'],
    ['no events', { events: [] }, 'events'],
    ['an unknown event type', { events: ['ReturnRequested', 'OrderShipped'] }, 'events'],
    ['a short secret', { secret: 'short' }, 'secret'],
    ['a secret that is not a string', { secret: 1234567890123456789 }, 'secret'],
    ['an unknown field', { retries: 3 }, 'retries'],
  ])('400 problem+json for %s', async (_what, change, field) => {
    const body = { url: 'https://hooks.example.com/aftersales', events: ['ReturnRequested'], secret: SECRET, ...change };
    const problem = expectProblem(await p.api.post('/v1/webhooks', body, { token: admin }), 400);
    expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(JSON.stringify(problem)).not.toContain(SECRET);
  });

  it('400 problem+json for a bad dead-letter query or path id', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=x', 'webhookId=no%20spaces', 'other=1']) {
      expectProblem(await p.api.get(`/v1/webhooks/dead-letters?${query}`, { token: admin }), 400);
    }
    expectProblem(await p.api.post('/v1/webhooks/dead-letters/bad%20id/replay', undefined, { token: admin }), 400);
    expectProblem(await p.api.request('DELETE', '/v1/webhooks/bad%20id', { token: admin }), 400);
  });

  it('only admins: 403 for other roles, 401 without a token', async () => {
    const body = { url: receiver.url, events: ['ReturnRequested'], secret: SECRET };
    for (const token of [await p.merchant(MERCHANT), await p.agent('a-1', 'home'), await p.integration(), await p.buyer('b-1')]) {
      expectProblem(await p.api.post('/v1/webhooks', body, { token }), 403);
      expectProblem(await p.api.get('/v1/webhooks', { token }), 403);
      expectProblem(await p.api.get('/v1/webhooks/dead-letters', { token }), 403);
    }
    expectProblem(await p.api.post('/v1/webhooks', body), 401);
  });

  it('shows deliveries by status, results and the reactor\'s lag in /metrics', async () => {
    const text = await (await fetch(`${started.service.baseUrl}/metrics`)).text();
    expect(text).toMatch(/webhook_deliveries\{status="delivered"\} [1-9]/);
    expect(text).toMatch(/webhook_delivery_results_total\{result="dead"\} [1-9]/);
    expect(text).toMatch(/webhook_reactor_lag_events \d+/);
    expect(text).toMatch(/webhook_queue_jobs\{state="delayed"\} \d+/);
    // Nor did the secret reach the log (a dead letter was logged above).
    expect(started.service.output()).toContain('dead letter');
    expect(started.service.output()).not.toContain(SECRET);
  });
});
