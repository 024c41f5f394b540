import { daysAgo, orderBody, PROBLEM, token } from '../commands/support/app';
import { startQueryApp, type QueryApp } from './support/query-app';
import { createTestDatabase, DIALECTS } from './support/read-stores';

/** GET /v1/analytics/summary and /abuse over HTTP, with the projector beside the API (read models on SQLite, and on PostgreSQL with DATABASE_URL). */
describe.each(DIALECTS)('analytics from read models on %s', (dialect) => {
  let api: QueryApp;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  const t: Record<string, string> = {};
  let last = 0;
  /** The UTC day the cases were opened (the test may run across midnight). */
  let openedOn = '';

  beforeAll(async () => {
    if (dialect === 'postgres') database = await createTestDatabase();
    api = await startQueryApp(database ? { READ_STORE: 'postgres', DATABASE_URL: database.url } : {});
    t.integration = await token({ sub: 'order-system', role: 'integration' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel' });
    t.arbitrator = await token({ sub: 'arb-1', role: 'arbitrator', businessLine: 'apparel' });
    t.admin = await token({ sub: 'admin-1', role: 'admin' });

    openedOn = new Date().toISOString().slice(0, 10);
    // Three buyers, one payment account (acct-shared); two cases at m1, one at m2; m1 approves one.
    const opened: string[] = [];
    for (const [n, buyer, merchant] of [
      [1, 'u-1', 'm1'],
      [2, 'u-2', 'm1'],
      [3, 'u-3', 'm2'],
    ] as const) {
      const orderId = `o-${n}`;
      t[buyer] = await token({ sub: buyer, role: 'buyer' });
      expect((await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody({ buyerId: buyer, merchantId: merchant, paymentAccount: 'acct-shared' }))).status).toBe(201);
      expect((await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `SF${n}`, shippedAt: daysAgo(3) })).status).toBe(200);
      expect((await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) })).status).toBe(200);
      const created = await api.call('post', '/v1/cases', t[buyer], { orderId, kind: 'return_and_refund', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }] });
      expect(created.status).toBe(201);
      opened.push(created.body.caseId);
    }
    const approved = await api.call('post', `/v1/cases/${opened[0]}/approve`, t.merchant, {});
    expect(approved.status).toBe(200);
    last = approved.body.position;
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  const get = (path: string, bearer = t.admin) => api.call('get', path, bearer);

  it('summarises the last 30 days by day unless asked otherwise', async () => {
    const before = Date.now();
    const summary = await get(`/v1/analytics/summary?minPosition=${last}`);
    expect(summary.status).toBe(200);
    const { from, to, groupBy, items } = summary.body;
    expect(groupBy).toBe('day');
    expect(Date.parse(to) - Date.parse(from)).toBe(30 * 86_400_000);
    expect(Math.abs(Date.parse(to) - before)).toBeLessThan(60_000);
    expect(items).toEqual([
      {
        key: openedOn,
        cases: 3,
        refunded: 0,
        compensated: 0,
        autoApprovedRate: 0,
        deadlineDecidedRate: 0,
        expressRefunds: 0,
        expressDisputed: 0,
        firstResponseP50: expect.any(Number),
        firstResponseP90: expect.any(Number),
        resolutionP50: null,
        resolutionP90: null,
      },
    ]);
  });

  it('groups by every key of API.md within [from, to)', async () => {
    const from = encodeURIComponent(daysAgo(1));
    const to = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    const byMerchant = await get(`/v1/analytics/summary?groupBy=merchant&from=${from}&to=${to}`);
    expect(byMerchant.status).toBe(200);
    expect(byMerchant.body.items.map((i: { key: string; cases: number }) => [i.key, i.cases])).toEqual([
      ['m1', 2],
      ['m2', 1],
    ]);
    for (const [groupBy, key] of [
      ['reason', 'quality_defect'],
      ['department', 'quality'],
      ['product', 'p-tee'],
      ['category', 'tops'],
      ['supplier', 's-1'],
      ['agent', 'none'],
    ] as const) {
      const response = await get(`/v1/analytics/summary?groupBy=${groupBy}&from=${from}&to=${to}`);
      expect({ groupBy, items: response.body.items.map((i: { key: string; cases: number }) => [i.key, i.cases]) }).toEqual({ groupBy, items: [[key, 3]] });
    }
    expect((await get(`/v1/analytics/summary?from=${to}&to=${to}`)).body.items).toEqual([]);
  });

  it('reports a payment account behind many buyers, with why', async () => {
    const report = await get(`/v1/analytics/abuse?minPosition=${last}`);
    expect(report.status).toBe(200);
    expect(report.body).toEqual({
      items: [{ subject: 'paymentAccount', id: 'acct-shared', cases: 3, refundRatio: 0, buyers: 3, reasons: ['3 buyers pay from this account (rule: 3 or more)'] }],
    });
  });

  it('is for admins only, and answers bad parameters with 400 problem+json naming them', async () => {
    for (const bearer of [t['u-1'], t.merchant, t.agent, t.arbitrator, t.integration]) {
      expect((await get('/v1/analytics/summary', bearer)).status).toBe(403);
      expect((await get('/v1/analytics/abuse', bearer)).status).toBe(403);
    }
    expect((await api.call('get', '/v1/analytics/summary')).status).toBe(401);
    for (const [path, field] of [
      [`/v1/analytics/summary?from=${encodeURIComponent('2026-02-01T00:00:00Z')}&to=${encodeURIComponent('2026-01-01T00:00:00Z')}`, 'from'],
      [`/v1/analytics/summary?from=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`, 'from'],
      ['/v1/analytics/summary?groupBy=week', 'groupBy'],
      ['/v1/analytics/summary?from=yesterday', 'from'],
      ['/v1/analytics/summary?to=2026-01-01', 'to'],
      ['/v1/analytics/summary?minPosition=soon', 'minPosition'],
      ['/v1/analytics/summary?limit=5', 'limit'],
      ['/v1/analytics/abuse?limit=0', 'limit'],
      ['/v1/analytics/abuse?limit=201', 'limit'],
      ['/v1/analytics/abuse?cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['/v1/analytics/abuse?subject=buyer', 'subject'],
    ] as const) {
      const response = await get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });
});
