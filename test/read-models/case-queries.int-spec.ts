import { daysAgo, orderBody, PROBLEM, token } from '../commands/support/app';
import { startQueryApp, type QueryApp } from './support/query-app';
import { createTestDatabase, DIALECTS } from './support/read-stores';

/** GET /v1/cases and the timeline over HTTP, with the projector running beside the API (read models on SQLite, and on PostgreSQL with DATABASE_URL). */
describe.each(DIALECTS)('case queries from read models on %s', (dialect) => {
  let api: QueryApp;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  const t: Record<string, string> = {};
  /** caseId → the buyer, merchant and line it belongs to. */
  const opened: Array<{ caseId: string; buyer: string; merchant: string; line: string; position: number }> = [];
  let last = 0;

  beforeAll(async () => {
    if (dialect === 'postgres') database = await createTestDatabase();
    api = await startQueryApp(database ? { READ_STORE: 'postgres', DATABASE_URL: database.url } : {});
    t.integration = await token({ sub: 'order-system', role: 'integration' });
    t.buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    t.buyer2 = await token({ sub: 'u-2', role: 'buyer' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.merchant2 = await token({ sub: 'm2-staff', role: 'merchant', merchantId: 'm2' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
    t.foreignAgent = await token({ sub: 'agent-x', role: 'agent', businessLine: 'groceries' });
    t.arbitrator = await token({ sub: 'arb-1', role: 'arbitrator', businessLine: 'apparel' });
    t.admin = await token({ sub: 'admin-1', role: 'admin' });

    // Five cases: u-buyer at m1 (apparel) four times, u-2 at m2 (groceries) once.
    for (const [n, buyer, merchant, line] of [
      [1, 'u-buyer', 'm1', 'apparel'],
      [2, 'u-buyer', 'm1', 'apparel'],
      [3, 'u-2', 'm2', 'groceries'],
      [4, 'u-buyer', 'm1', 'apparel'],
      [5, 'u-buyer', 'm1', 'apparel'],
    ] as const) {
      const orderId = `o-${n}`;
      const put = await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody({ buyerId: buyer, merchantId: merchant, businessLine: line }));
      expect(put.status).toBe(201);
      expect((await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `SF${n}`, shippedAt: daysAgo(3) })).status).toBe(200);
      expect((await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) })).status).toBe(200);
      const created = await api.call('post', '/v1/cases', buyer === 'u-buyer' ? t.buyer : t.buyer2, {
        orderId,
        kind: 'return_and_refund',
        reason: 'quality_defect',
        lines: [{ lineId: 'L1', quantity: 1 }],
      });
      expect(created.status).toBe(201);
      opened.push({ caseId: created.body.caseId, buyer, merchant, line, position: created.body.position });
      last = created.body.position;
    }
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  const list = (query: string, bearer: string) => api.call('get', `/v1/cases?${query}`, bearer);
  const ids = (response: { body: { items: Array<{ caseId: string }> } }) => response.body.items.map((i) => i.caseId);
  /** Newest first: the cases in the reverse of their opening. */
  const newestFirst = (filter: (c: (typeof opened)[number]) => boolean) => opened.filter(filter).map((c) => c.caseId).reverse();

  it('waits for minPosition, then lists what each caller sees, newest first', async () => {
    const mine = await list(`minPosition=${last}`, t.buyer);
    expect(mine.status).toBe(200);
    expect(ids(mine)).toEqual(newestFirst((c) => c.buyer === 'u-buyer'));
    expect(mine.body.items[0]).toMatchObject({
      orderId: 'o-5',
      buyerId: 'u-buyer',
      merchantId: 'm1',
      kind: 'return_and_refund',
      reason: 'quality_defect',
      status: 'pending_merchant',
      statusLabel: 'Waiting for the seller (待商家处理)',
      requestedAmount: 10_000,
      refunded: 0,
      currency: 'CNY',
      priority: 0,
      nextDeadline: { name: 'merchantResponse', at: expect.any(String) },
    });
    expect(mine.body.nextCursor).toBeUndefined();

    expect(ids(await list(`minPosition=${last}`, t.buyer2))).toEqual(newestFirst((c) => c.buyer === 'u-2'));
    expect(ids(await list('', t.merchant))).toEqual(newestFirst((c) => c.merchant === 'm1'));
    expect(ids(await list('', t.merchant2))).toEqual(newestFirst((c) => c.merchant === 'm2'));
    expect(ids(await list('', t.agent))).toEqual(newestFirst((c) => c.line === 'apparel'));
    expect(ids(await list('', t.foreignAgent))).toEqual(newestFirst((c) => c.line === 'groceries'));
    expect(ids(await list('', t.arbitrator))).toEqual(newestFirst(() => true));
    const all = await list('', t.admin);
    expect(ids(all)).toEqual(newestFirst(() => true));
    expect(all.body.items[0].statusLabel).toBe('pending_merchant');
  });

  it('filters within the caller\'s scope; a filter outside it gives an empty list', async () => {
    expect(ids(await list('merchantId=m2', t.admin))).toEqual(newestFirst((c) => c.merchant === 'm2'));
    expect(ids(await list('buyerId=u-2', t.buyer))).toEqual([]);
    expect(ids(await list('merchantId=m2', t.merchant))).toEqual([]);
    expect(ids(await list('status=pending_merchant&kind=return_and_refund&reason=quality_defect', t.buyer2))).toEqual(newestFirst((c) => c.buyer === 'u-2'));
    expect(ids(await list('status=completed', t.admin))).toEqual([]);
    expect(ids(await list('kind=exchange', t.admin))).toEqual([]);
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(ids(await list(`from=${encodeURIComponent(future)}`, t.admin))).toEqual([]);
    expect(ids(await list(`to=${encodeURIComponent(future)}`, t.admin))).toHaveLength(opened.length);
    expect(ids(await list(`deadlineBefore=${encodeURIComponent(daysAgo(0))}`, t.admin))).toEqual([]);
    expect(ids(await list(`deadlineBefore=${encodeURIComponent(new Date(Date.now() + 3 * 86_400_000).toISOString())}`, t.admin))).toHaveLength(opened.length);
  });

  it('pages with a cursor that stays good while cases are added, and only for its own list', async () => {
    const first = await list('limit=2', t.agent);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));

    // A new case lands before the pages already read; the next pages neither repeat nor skip one.
    const put = await api.call('put', '/v1/orders/o-6', t.integration, orderBody());
    expect(put.status).toBe(201);
    const created = await api.call('post', '/v1/cases', t.buyer, { orderId: 'o-6', kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L2', quantity: 1 }] });
    expect(created.status).toBe(201);
    expect((await list(`limit=1&minPosition=${created.body.position}`, t.agent)).body.items[0].caseId).toBe(created.body.caseId);

    const second = await list(`limit=2&cursor=${first.body.nextCursor}`, t.agent);
    expect(second.status).toBe(200);
    expect([...ids(first), ...ids(second)]).toEqual(newestFirst((c) => c.line === 'apparel'));
    expect(second.body.nextCursor).toBeUndefined();

    // Another caller, or other filters: 400 naming the cursor, nothing else said.
    for (const [query, bearer] of [
      [`cursor=${first.body.nextCursor}`, t.buyer],
      // Refused before any wait for minPosition.
      [`cursor=${first.body.nextCursor}&minPosition=${last + 1_000_000}`, t.buyer],
      [`cursor=${first.body.nextCursor}`, t.admin],
      [`cursor=${first.body.nextCursor}&limit=2&status=pending_merchant`, t.agent],
      ['cursor=bm90LWEtY3Vyc29y', t.agent],
    ] as const) {
      const refused = await list(query, bearer);
      expect(refused.status).toBe(400);
      expect(refused.headers['content-type']).toMatch(PROBLEM);
      expect(refused.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
      expect(JSON.stringify(refused.body)).not.toContain(opened[0].caseId.slice(0, 12));
    }
  });

  it('answers bad input with 400 problem+json naming the parameter', async () => {
    for (const [query, field] of [
      ['colour=red', 'colour'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['status=lost', 'status'],
      ['kind=gift', 'kind'],
      ['reason=bored', 'reason'],
      ['merchantId=a%20b', 'merchantId'],
      ['from=yesterday', 'from'],
      ['to=2026-01-01', 'to'],
      [`from=${encodeURIComponent('2026-02-01T00:00:00Z')}&to=${encodeURIComponent('2026-01-01T00:00:00Z')}`, 'from'],
      ['minPosition=soon', 'minPosition'],
      ['minPosition=-1', 'minPosition'],
    ] as const) {
      const response = await list(query, t.admin);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await list('', t.integration)).status).toBe(403);
    expect((await api.call('get', '/v1/cases')).status).toBe(401);
  });

  it('answers 503 with Retry-After when the read models do not reach minPosition within 5 s', async () => {
    const started = Date.now();
    const response = await list(`minPosition=${last + 1_000_000}`, t.admin);
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
  }, 15_000);

  it('tells the buyer the steps and what comes next, and staff every step with its actor', async () => {
    const { caseId } = opened[0];
    const noted = await api.call('post', `/v1/cases/${caseId}/note`, t.admin, { text: 'buyer called' });
    expect(noted.status).toBe(200);
    const rejected = await api.call('post', `/v1/cases/${caseId}/reject`, t.merchant, { reason: 'signs of use', note: 'scratches' });
    expect(rejected.status).toBe(200);
    const position = rejected.body.position as number;

    const forBuyer = await api.call('get', `/v1/cases/${caseId}/timeline?minPosition=${position}`, t.buyer);
    expect(forBuyer.status).toBe(200);
    expect(forBuyer.body).toEqual({
      caseId,
      status: 'rejected',
      statusLabel: 'Seller declined (商家已拒绝)',
      next: { waitingFor: 'buyer: amend, escalate or withdraw', deadline: { name: 'buyerAppeal', at: expect.any(String) } },
      items: [
        { at: expect.any(String), label: 'Request submitted' },
        { at: expect.any(String), label: 'Seller declined' },
      ],
    });

    const forMerchant = await api.call('get', `/v1/cases/${caseId}/timeline?minPosition=${position}`, t.merchant);
    expect(forMerchant.body.items.map((i: { type: string }) => i.type)).not.toContain('CaseNoteAdded');

    const forStaff = await api.call('get', `/v1/cases/${caseId}/timeline`, t.agent);
    expect(forStaff.body.statusLabel).toBe('rejected');
    expect(forStaff.body.items).toContainEqual(
      expect.objectContaining({ type: 'CaseNoteAdded', actor: { role: 'admin', id: 'admin-1' }, channel: 'web', note: 'buyer called', data: { text: 'buyer called' } }),
    );
    expect(forStaff.body.items).toContainEqual(
      expect.objectContaining({ type: 'MerchantRejected', actor: { role: 'merchant', id: 'm-staff' }, channel: 'web', note: 'scratches' }),
    );

    for (const bearer of [t.buyer2, t.merchant2, t.foreignAgent]) {
      const hidden = await api.call('get', `/v1/cases/${caseId}/timeline`, bearer);
      expect(hidden.status).toBe(404);
    }
    expect((await api.call('get', '/v1/cases/no-such-case/timeline', t.admin)).status).toBe(404);
    expect((await api.call('get', `/v1/cases/${caseId}/timeline?minPosition=x`, t.admin)).status).toBe(400);
  });

  it('shows each projection\'s lag in /metrics and the read store in /health', async () => {
    const health = await api.call('get', '/health');
    expect(health.status).toBe(200);
    expect(health.body.details.readStore).toEqual({ status: 'up', kind: dialect });
    const metrics = await api.call('get', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/projection_lag_events\{projection="case_list"\} \d+/);
    expect(metrics.text).toMatch(/projection_position\{projection="case_timeline"\} [1-9]\d*/);
  });
});
