import type { StoredEvent } from '@aftersales/event-store';
import { AnalyticsQuery, caseAnalyticsProjection, prepareProjection, readCheckpoint, storeBatch, type AnyProjection, type ReadStore } from '@aftersales/read-models';
import { AGENT, CaseHistory, MERCHANT, PAYMENTS, SYSTEM } from './support/case-history';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

/** Stores the batches as the runner does, each with the checkpoint it follows. */
async function given(store: ReadStore, projection: AnyProjection, ...batches: StoredEvent[][]): Promise<void> {
  await prepareProjection(store, projection);
  for (const events of batches) {
    const expected = await readCheckpoint(store.db, projection.name);
    const position = Math.max(expected, ...events.map((e) => e.position));
    await storeBatch(store, projection, { expected, position, events });
  }
}

/** The order's OrderRegistered, at the log's next position. */
export function orderRegistered(orderId: string, buyerId: string, paymentAccount: string, paidAmount: number, at = '2026-04-20T00:00:00.000Z'): StoredEvent {
  const [event] = new CaseHistory('unused').add(
    'OrderRegistered',
    { orderId, buyerId, merchantId: 'm1', currency: 'CNY', paidAmount, shippingFee: 0, paymentMethod: 'card', paymentAccount, buyerTrustScore: 500, returnShippingInsured: false, businessLine: 'apparel', placedAt: at, lines: [] },
    at,
    { role: 'integration', id: 'order-system' },
    'api',
  ).events;
  return { ...event, streamName: `order-${orderId}`, revision: 0 };
}

const AGENT_2 = { role: 'agent', id: 'agent-2' };
const H = 3_600_000;
const at = (base: string, hours: number) => new Date(Date.parse(base) + hours * H).toISOString();

/** Deadline-approved refund_only, settled, completed, rated 5 / NPS 10. */
function silentMerchant(id: string, start: string, overrides: Record<string, unknown> = {}): CaseHistory {
  return new CaseHistory(id)
    .requested(start, overrides)
    .add('DeadlineSet', { name: 'merchantResponse', dueAt: at(start, 48) }, start)
    .add('MerchantAgreed', { amount: 5000, auto: true, trigger: 'merchantResponse' }, at(start, 48), SYSTEM, 'api')
    .add('RefundIssued', { refundId: 'r1', amount: 5000, purpose: 'refund', express: false }, at(start, 48), SYSTEM, 'api')
    .add('RefundSettled', { refundId: 'r1', at: at(start, 49) }, at(start, 49), PAYMENTS, 'api')
    .add('CaseCompleted', {}, at(start, 49), PAYMENTS, 'api')
    .add('SatisfactionRated', { score: 5, nps: 10 }, at(start, 50));
}

/** A return with an express refund, disputed at inspection, escalated; an agent holds it, another compensates. */
function disputedExpress(id: string, start: string): CaseHistory {
  return new CaseHistory(id)
    .requested(start, {
      kind: 'return_and_refund',
      reason: 'quality_defect',
      responsible: 'merchant',
      department: 'quality',
      merchantId: 'm2',
      lines: [
        { lineId: 'L2', quantity: 1, productId: 'p2', category: 'shoes', supplierId: 's2' },
        { lineId: 'L1', quantity: 1, productId: 'p1', category: 'tops', supplierId: 's1' },
      ],
    })
    .add('MerchantAgreed', { amount: 5000, auto: false }, at(start, 1), MERCHANT, 'web')
    .add('ReturnShipped', { carrier: 'sf', trackingNumber: 'T1', shippedAt: at(start, 2) }, at(start, 2))
    .add('ReturnCollected', { trackingNumber: 'T1', at: at(start, 3) }, at(start, 3), { role: 'integration', id: 'logistics' }, 'api')
    .add('ExpressRefundGranted', { refundId: 'r3', amount: 5000 }, at(start, 3), { role: 'integration', id: 'logistics' }, 'api')
    .add('RefundIssued', { refundId: 'r3', amount: 5000, purpose: 'refund', express: true }, at(start, 3), { role: 'integration', id: 'logistics' }, 'api')
    .add('RefundSettled', { refundId: 'r3', at: at(start, 4) }, at(start, 4), PAYMENTS, 'api')
    .add('ReturnDelivered', { trackingNumber: 'T1', at: at(start, 24), assumed: false }, at(start, 24), { role: 'integration', id: 'logistics' }, 'api')
    .add('ReturnInspectionFailed', { evidence: ['https://x.test/1.jpg'] }, at(start, 30), MERCHANT, 'web')
    .add('CaseEscalated', { reason: 'it was fine' }, at(start, 31))
    .add('CaseClaimed', { agentId: 'agent-1' }, at(start, 32), AGENT, 'agent')
    .add('CompensationGranted', { refundId: 'r13', amount: 300, form: 'coupon' }, at(start, 33), AGENT_2, 'agent')
    .add('RefundIssued', { refundId: 'r13', amount: 300, purpose: 'compensation', express: false }, at(start, 33), AGENT_2, 'agent')
    .add('RefundSettled', { refundId: 'r13', at: at(start, 34) }, at(start, 34), PAYMENTS, 'api')
    .add('CaseTransferred', { agentId: 'agent-3' }, at(start, 35), { role: 'admin', id: 'admin-1' }, 'web');
}

describe.each(DIALECTS)('case_analytics projection on %s', (dialect) => {
  let t: TestReadStore;

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const facts = (store: ReadStore) => store.db.selectFrom('rm_case_facts').selectAll().orderBy('case_id').execute();

  it('records what the clock decided, money back, first response, resolution and rating of a case, whatever the batches', async () => {
    const order = orderRegistered('o-f1', 'u1', 'acct-1', 8000);
    const c = silentMerchant('f1', '2026-05-01T10:00:00.000Z');
    await given(t.store, caseAnalyticsProjection, [order, ...c.events.slice(0, 3)], c.events.slice(2));
    expect(await facts(t.store)).toEqual([
      expect.objectContaining({
        case_id: 'f1',
        order_id: 'o-f1',
        buyer_id: 'u1',
        payment_account: 'acct-1',
        merchant_id: 'm1',
        kind: 'refund_only',
        reason: 'not_received',
        department: 'logistics',
        product_id: 'p1',
        category: 'tops',
        supplier_id: 's1',
        requested_at: '2026-05-01T10:00:00.000Z',
        day: '2026-05-01',
        agent_id: null,
        refunded: 5000,
        compensated: 0,
        auto_approved: 1,
        deadline_decided: 1,
        express_refund: 0,
        express_disputed: 0,
        returned: 0,
        first_response_seconds: 48 * 3600,
        resolution_seconds: 49 * 3600,
        rating: 5,
        nps: 10,
        revision: 6,
      }),
    ]);
    expect(await t.store.db.selectFrom('rm_case_facts_orders').selectAll().execute()).toEqual([
      { order_id: 'o-f1', buyer_id: 'u1', payment_account: 'acct-1', paid_amount: 8000 },
    ]);
  });

  it('tells an express refund later disputed, the first line\'s product, and the compensating agent over later holders', async () => {
    const c = disputedExpress('f2', '2026-05-02T10:00:00.000Z');
    await given(t.store, caseAnalyticsProjection, c.events);
    expect(await facts(t.store)).toEqual([
      expect.objectContaining({
        case_id: 'f2',
        payment_account: null,
        merchant_id: 'm2',
        department: 'quality',
        product_id: 'p2',
        category: 'shoes',
        supplier_id: 's2',
        agent_id: 'agent-2',
        compensated_by: 'agent-2',
        refunded: 5300,
        compensated: 300,
        auto_approved: 0,
        deadline_decided: 0,
        express_refund: 1,
        express_disputed: 1,
        returned: 1,
        first_response_seconds: 3600,
        resolution_seconds: null,
        rating: null,
      }),
    ]);
  });

  it('counts closes and replacement completions by the clock as deadline decisions, not a buyer\'s withdrawal', async () => {
    const lapsed = new CaseHistory('f3')
      .requested('2026-05-03T00:00:00.000Z')
      .add('MerchantCounterOffered', { amount: 100 }, '2026-05-03T01:00:00.000Z', MERCHANT, 'web')
      .add('OfferLapsed', {}, '2026-05-05T01:00:00.000Z', SYSTEM, 'api')
      .add('CaseClosed', { reason: 'expired' }, '2026-05-05T01:00:00.000Z', SYSTEM, 'api');
    const withdrawn = new CaseHistory('f4')
      .requested('2026-05-03T00:00:00.000Z')
      .add('CaseWithdrawn', {}, '2026-05-03T02:00:00.000Z')
      .add('CaseClosed', { reason: 'withdrawn' }, '2026-05-03T02:00:00.000Z');
    const replaced = new CaseHistory('f5')
      .requested('2026-05-03T00:00:00.000Z', { kind: 'exchange', reason: 'wrong_item' })
      .add('MerchantAgreed', { amount: 0, auto: false }, '2026-05-03T03:00:00.000Z', MERCHANT, 'web')
      .add('ReplacementShipped', { carrier: 'sf', trackingNumber: 'R1', shippedAt: '2026-05-04T00:00:00.000Z' }, '2026-05-04T00:00:00.000Z', MERCHANT, 'web')
      .add('CaseCompleted', {}, '2026-05-14T00:00:00.000Z', SYSTEM, 'api');
    await given(t.store, caseAnalyticsProjection, [...lapsed.events, ...withdrawn.events, ...replaced.events]);
    const rows = await facts(t.store);
    expect(rows.map((r) => [r.case_id, r.deadline_decided, r.first_response_seconds, r.resolution_seconds])).toEqual([
      ['f3', 1, 3600, 49 * 3600],
      ['f4', 0, null, 2 * 3600],
      ['f5', 1, 3 * 3600, 11 * 86_400],
    ]);
  });

  it('summarises the cases requested in [from, to) by each key', async () => {
    const cases = [
      silentMerchant('s1', '2026-05-01T10:00:00.000Z'),
      silentMerchant('s2', '2026-05-01T23:59:59.000Z', { merchantId: 'm2' }),
      disputedExpress('s3', '2026-05-02T00:00:00.000Z'),
      silentMerchant('s4', '2026-05-10T00:00:00.000Z'),
    ];
    const lowRating = new CaseHistory('s5').requested('2026-05-02T05:00:00.000Z').add('SatisfactionRated', { score: 1, nps: 3 }, '2026-05-02T06:00:00.000Z');
    await given(t.store, caseAnalyticsProjection, [...cases.flatMap((c) => c.events), ...lowRating.events]);
    const query = new AnalyticsQuery(t.store);
    const range = { from: '2026-05-01T00:00:00.000Z', to: '2026-05-10T00:00:00.000Z' };

    const byDay = await query.summary(range, 'day');
    expect(byDay).toEqual({
      ...range,
      groupBy: 'day',
      items: [
        {
          key: '2026-05-01',
          cases: 2,
          refunded: 10_000,
          compensated: 0,
          autoApprovedRate: 1,
          deadlineDecidedRate: 1,
          expressRefunds: 0,
          expressDisputed: 0,
          // Percentiles are the upper bounds of their histogram buckets: 48 h falls in 172,032–174,079 s, 49 h in 176,128–178,175 s.
          firstResponseP50: 174_079,
          firstResponseP90: 174_079,
          resolutionP50: 178_175,
          resolutionP90: 178_175,
          ratingAvg: 5,
          nps: 100,
        },
        {
          key: '2026-05-02',
          cases: 2,
          refunded: 5300,
          compensated: 300,
          autoApprovedRate: 0,
          deadlineDecidedRate: 0,
          expressRefunds: 1,
          expressDisputed: 1,
          // 1 h: bucket 3,584–3,615 s.
          firstResponseP50: 3615,
          firstResponseP90: 3615,
          resolutionP50: null,
          resolutionP90: null,
          ratingAvg: 1,
          nps: -100,
        },
      ],
    });

    const byMerchant = await query.summary(range, 'merchant');
    expect(byMerchant.items.map((i) => [i.key, i.cases, i.ratingAvg, i.nps])).toEqual([
      ['m1', 2, 3, 0],
      ['m2', 2, 5, 100],
    ]);
    expect((await query.summary(range, 'agent')).items.map((i) => [i.key, i.cases, i.compensated])).toEqual([
      ['agent-2', 1, 300],
      ['none', 3, 0],
    ]);
    expect((await query.summary(range, 'category')).items.map((i) => [i.key, i.cases])).toEqual([
      ['shoes', 1],
      ['tops', 3],
    ]);
    for (const groupBy of ['reason', 'department', 'product', 'supplier'] as const) {
      const summary = await query.summary(range, groupBy);
      expect(summary.items.reduce((n, i) => n + i.cases, 0)).toBe(4);
    }
    expect((await query.summary({ from: range.to, to: '2026-05-11T00:00:00.000Z' }, 'day')).items.map((i) => i.key)).toEqual(['2026-05-10']);
  });

  it('takes nearest-rank percentiles of each group\'s durations, leaving out cases not yet answered', async () => {
    const answered = Array.from({ length: 10 }, (_, i) =>
      new CaseHistory(`pc${i}`)
        .requested('2026-06-01T00:00:00.000Z')
        .add('MerchantRejected', { reason: 'no' }, at('2026-06-01T00:00:00.000Z', 10 - i), MERCHANT, 'web'),
    );
    const waiting = new CaseHistory('pc-waiting').requested('2026-06-01T00:00:00.000Z');
    const other = new CaseHistory('pc-other').requested('2026-06-02T00:00:00.000Z').add('MerchantRejected', { reason: 'no' }, '2026-06-02T07:00:00.000Z', MERCHANT, 'web');
    await given(t.store, caseAnalyticsProjection, [...answered.flatMap((c) => c.events), ...waiting.events, ...other.events]);
    const summary = await new AnalyticsQuery(t.store).summary({ from: '2026-06-01T00:00:00.000Z', to: '2026-06-03T00:00:00.000Z' }, 'day');
    expect(summary.items.map((i) => [i.key, i.cases, i.firstResponseP50, i.firstResponseP90, i.resolutionP50])).toEqual([
      // Exact: 5 h and 9 h, 7 h; reported: the upper bounds of their buckets (17,920–18,175, 32,256–32,511, 25,088–25,343 s).
      ['2026-06-01', 11, 18_175, 32_511, null],
      ['2026-06-02', 1, 25_343, 25_343, null],
    ]);
  });
});
