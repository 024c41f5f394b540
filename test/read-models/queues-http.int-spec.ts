import { daysAgo, orderBody, PROBLEM, token } from '../commands/support/app';
import { startQueryApp, type QueryApp } from './support/query-app';
import { createTestDatabase, DIALECTS } from './support/read-stores';

/** GET /v1/queues/pool and /mine over HTTP, with the projector beside the API (read models on SQLite, and on PostgreSQL with DATABASE_URL). */
describe.each(DIALECTS)('agent queues from read models on %s', (dialect) => {
  let api: QueryApp;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  const t: Record<string, string> = {};
  const cases: Record<string, string> = {};
  let last = 0;

  const ok = <R extends { status: number; body: { position?: number } }>(response: R, status = 200): R => {
    expect(response.status).toBe(status);
    if (response.body.position !== undefined) last = Math.max(last, response.body.position);
    return response;
  };

  beforeAll(async () => {
    if (dialect === 'postgres') database = await createTestDatabase();
    api = await startQueryApp(database ? { READ_STORE: 'postgres', DATABASE_URL: database.url } : {});
    t.integration = await token({ sub: 'order-system', role: 'integration' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
    t.agent2 = await token({ sub: 'agent-2', role: 'agent', businessLine: 'apparel' });
    t.foreignAgent = await token({ sub: 'agent-x', role: 'agent', businessLine: 'groceries' });
    t.arbitrator = await token({ sub: 'arb-1', role: 'arbitrator', businessLine: 'apparel' });
    t.admin = await token({ sub: 'admin-1', role: 'admin' });

    // escalated: u-a's rejected then escalated case; quiet: u-a's untouched one; grocery and flagged: cases of buyers an admin flags.
    for (const [name, buyer, line] of [
      ['escalated', 'u-a', 'apparel'],
      ['quiet', 'u-a', 'apparel'],
      ['grocery', 'u-b', 'groceries'],
      ['flagged', 'u-c', 'apparel'],
    ] as const) {
      const orderId = `o-${name}`;
      t[buyer] ??= await token({ sub: buyer, role: 'buyer' });
      ok(await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody({ buyerId: buyer, merchantId: 'm1', businessLine: line })), 201);
      ok(await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `SF-${name}`, shippedAt: daysAgo(3) }));
      ok(await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) }));
      const created = ok(
        await api.call('post', '/v1/cases', t[buyer], { orderId, kind: 'return_and_refund', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }] }),
        201,
      );
      cases[name] = created.body.caseId;
    }
    ok(await api.call('post', `/v1/cases/${cases.escalated}/reject`, t.merchant, { reason: 'signs of use' }));
    ok(await api.call('post', `/v1/cases/${cases.escalated}/escalate`, t['u-a'], { reason: 'it arrived broken' }));
    ok(await api.call('put', '/v1/buyers/u-b/flag', t.admin, { reason: 'refunds on every order' }));
    ok(await api.call('put', '/v1/buyers/u-c/flag', t.admin, { reason: 'refunds on every order' }));
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  const get = (path: string, bearer: string) => api.call('get', path, bearer);
  const ids = (response: { body: { items: Array<{ caseId: string }> } }) => response.body.items.map((i) => i.caseId);

  it('gives an agent its own line\'s pool, priority then oldest, with time waiting and the next deadline', async () => {
    // `last`: the position the buyer flag's answer carried, after every case command.
    const pool = await get(`/v1/queues/pool?minPosition=${last}`, t.agent);
    expect(pool.status).toBe(200);
    expect(ids(pool)).toEqual([cases.escalated, cases.flagged]);
    expect(pool.body.items[0]).toEqual({
      caseId: cases.escalated,
      orderId: 'o-escalated',
      businessLine: 'apparel',
      kind: 'return_and_refund',
      reason: 'quality_defect',
      status: 'escalated',
      priority: 0,
      requestedAt: expect.any(String),
      waitingSince: expect.any(String),
      nextDeadline: { name: 'platformRulingSla', at: expect.any(String) },
    });
    expect(pool.body.items[0].waitingSince > pool.body.items[0].requestedAt).toBe(true);
    expect(pool.body.nextCursor).toBeUndefined();

    expect(ids(await get(`/v1/queues/pool?businessLine=apparel`, t.agent))).toEqual([cases.escalated, cases.flagged]);
    // Another line than the agent's own is outside its scope: an empty list.
    expect(ids(await get(`/v1/queues/pool?businessLine=groceries`, t.agent))).toEqual([]);
    expect(ids(await get(`/v1/queues/pool`, t.foreignAgent))).toEqual([cases.grocery]);
    // Admins: any line, or every line.
    expect(ids(await get(`/v1/queues/pool?businessLine=groceries`, t.admin))).toEqual([cases.grocery]);
    expect(ids(await get(`/v1/queues/pool`, t.admin))).toEqual([cases.escalated, cases.grocery, cases.flagged]);
  });

  it('moves a claimed case from the pool to its agent\'s own queue, which no one else sees', async () => {
    const claimed = ok(await api.call('post', `/v1/cases/${cases.flagged}/claim`, t.agent, {}));
    const mine = await get(`/v1/queues/mine?minPosition=${claimed.body.position}`, t.agent);
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([expect.objectContaining({ caseId: cases.flagged, assignee: 'agent-1', status: 'pending_merchant' })]);
    expect(ids(await get('/v1/queues/mine', t.agent2))).toEqual([]);
    expect(ids(await get('/v1/queues/pool', t.agent2))).toEqual([cases.escalated]);
  });

  it('pages with a cursor good only for the queue it came from', async () => {
    const first = await get('/v1/queues/pool?limit=1', t.admin);
    expect(ids(first)).toEqual([cases.escalated]);
    const second = await get(`/v1/queues/pool?limit=1&cursor=${first.body.nextCursor}`, t.admin);
    expect(ids(second)).toEqual([cases.grocery]);
    expect(second.body.nextCursor).toBeUndefined();

    for (const [path, bearer] of [
      [`/v1/queues/pool?cursor=${first.body.nextCursor}`, t.agent],
      [`/v1/queues/pool?cursor=${first.body.nextCursor}&businessLine=apparel`, t.admin],
      [`/v1/queues/mine?cursor=${first.body.nextCursor}`, t.agent],
      ['/v1/queues/pool?cursor=bm90LWEtY3Vyc29y', t.admin],
    ] as const) {
      const refused = await get(path, bearer);
      expect({ path, status: refused.status }).toEqual({ path, status: 400 });
      expect(refused.headers['content-type']).toMatch(PROBLEM);
      expect(refused.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
    }
  });

  it('answers bad parameters with 400 problem+json naming them, and other roles with 403', async () => {
    for (const [path, field] of [
      ['/v1/queues/pool?limit=0', 'limit'],
      ['/v1/queues/pool?limit=201', 'limit'],
      ['/v1/queues/mine?limit=x', 'limit'],
      ['/v1/queues/pool?businessLine=a%20b', 'businessLine'],
      ['/v1/queues/pool?minPosition=soon', 'minPosition'],
      ['/v1/queues/mine?minPosition=-1', 'minPosition'],
      ['/v1/queues/pool?status=escalated', 'status'],
      ['/v1/queues/mine?businessLine=apparel', 'businessLine'],
    ] as const) {
      const response = await get(path, path.includes('mine') ? t.agent : t.admin);
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    for (const bearer of [t['u-a'], t.merchant, t.arbitrator, t.integration]) expect((await get('/v1/queues/pool', bearer)).status).toBe(403);
    for (const bearer of [t['u-a'], t.merchant, t.arbitrator, t.admin]) expect((await get('/v1/queues/mine', bearer)).status).toBe(403);
    expect((await api.call('get', '/v1/queues/pool')).status).toBe(401);
  });
});
