import type { StoredEvent } from '@aftersales/event-store';
import { ABUSE_REPORT_MAX_AGE_MS, ABUSE_RULES, AbuseQuery, caseAnalyticsProjection, judge, prepareProjection, readCheckpoint, storeBatch, type AnyProjection, type ReadStore } from '@aftersales/read-models';
import { CaseHistory, MERCHANT, PAYMENTS } from './support/case-history';
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

/** OrderRegistered of `orderId`, at the log's next position. */
function order(orderId: string, buyerId: string, paymentAccount: string, paidAmount = 10_000): StoredEvent {
  const at = '2026-04-20T00:00:00.000Z';
  const [event] = new CaseHistory('unused').add(
    'OrderRegistered',
    { orderId, buyerId, merchantId: 'm1', currency: 'CNY', paidAmount, shippingFee: 0, paymentMethod: 'card', paymentAccount, buyerTrustScore: 500, returnShippingInsured: false, businessLine: 'apparel', placedAt: at, lines: [] },
    at,
    { role: 'integration', id: 'order-system' },
    'api',
  ).events;
  return { ...event, streamName: `order-${orderId}`, revision: 0 };
}

/** A case on `orderId`: refund_only refunded `refunded` (nothing sent back), or a return_and_refund left waiting. */
function caseOn(caseId: string, orderId: string, buyerId: string, refunded?: number): StoredEvent[] {
  const start = '2026-05-01T00:00:00.000Z';
  if (refunded === undefined) return new CaseHistory(caseId).requested(start, { orderId, buyerId, kind: 'return_and_refund', reason: 'quality_defect' }).events;
  return new CaseHistory(caseId)
    .requested(start, { orderId, buyerId, requestedAmount: refunded })
    .add('MerchantAgreed', { amount: refunded, auto: false }, '2026-05-01T01:00:00.000Z', MERCHANT, 'web')
    .add('RefundIssued', { refundId: 'r1', amount: refunded, purpose: 'refund', express: false }, '2026-05-01T01:00:00.000Z', MERCHANT, 'web')
    .add('RefundSettled', { refundId: 'r1', at: '2026-05-01T02:00:00.000Z' }, '2026-05-01T02:00:00.000Z', PAYMENTS, 'api').events;
}

describe.each(DIALECTS)('abuse report from case_analytics on %s', (dialect) => {
  let t: TestReadStore;

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
    // u-abuser: three refund_only cases refunded 8,000 each of 10,000 paid, nothing returned, on an account two other buyers pay from.
    // u-fine: three cases, nothing refunded. u-few: one case refunded in full (too few to judge).
    const events = [
      ...['a1', 'a2', 'a3'].flatMap((n) => [order(`o-${n}`, 'u-abuser', 'acct-shared'), ...caseOn(`c-${n}`, `o-${n}`, 'u-abuser', 8_000)]),
      order('o-a4', 'u-abuser', 'acct-shared'),
      order('o-x', 'u-x', 'acct-shared'),
      order('o-y', 'u-y', 'acct-shared'),
      ...['f1', 'f2', 'f3'].flatMap((n) => [order(`o-${n}`, 'u-fine', 'acct-fine'), ...caseOn(`c-${n}`, `o-${n}`, 'u-fine')]),
      order('o-w', 'u-few', 'acct-few'),
      ...caseOn('c-w', 'o-w', 'u-few', 10_000),
    ];
    await given(t.store, caseAnalyticsProjection, events.slice(0, 7), events.slice(7));
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('reports buyers and payment accounts that break a rule, each with why', async () => {
    const report = await new AbuseQuery(t.store).list({ limit: 50 });
    expect(report).toEqual({
      items: [
        {
          subject: 'buyer',
          id: 'u-abuser',
          cases: 3,
          refundRatio: 0.6,
          reasons: [
            'refunded 60% of what its orders paid over 3 cases (rule: 50% from 3 cases)',
            '3 of 3 cases refunded as refund_only with nothing returned (rule: 60% from 3 cases)',
          ],
        },
        {
          subject: 'paymentAccount',
          id: 'acct-shared',
          cases: 3,
          refundRatio: 0.4,
          buyers: 3,
          reasons: ['3 of 3 cases refunded as refund_only with nothing returned (rule: 60% from 3 cases)', '3 buyers pay from this account (rule: 3 or more)'],
        },
      ],
    });
  });

  it('reads its thresholds as data', async () => {
    const strict = new AbuseQuery(t.store, { ...ABUSE_RULES, minCases: 1, buyersPerPaymentAccount: 4, refundOnlyShare: 1.01 });
    const items = (await strict.list({ limit: 50 })).items;
    expect(items.map((i) => [i.subject, i.id, i.reasons.length])).toEqual([
      ['buyer', 'u-abuser', 1],
      ['buyer', 'u-few', 1],
      ['paymentAccount', 'acct-few', 1],
    ]);
    expect(judge('buyer', { id: 'b', cases: 5, refunded: 0, refundOnlyWithoutReturn: 0, paid: 100 }, ABUSE_RULES)).toBeUndefined();
  });

  it('pages by subject then id, and refuses a cursor that is not its own', async () => {
    const query = new AbuseQuery(t.store);
    const first = await query.list({ limit: 1 });
    expect(first.items.map((i) => i.id)).toEqual(['u-abuser']);
    const second = await query.list({ limit: 1, cursor: first.nextCursor });
    expect(second.items.map((i) => i.id)).toEqual(['acct-shared']);
    expect(second.nextCursor).toBeUndefined();
    expect(() => query.checkCursor('bm90LWEtY3Vyc29y')).toThrow('must be a cursor');
  });
  it('serves every page of a report from one reading: again only when it is older than its age limit or a caller asks for a later minPosition', async () => {
    let now = 1_000_000;
    const query = new AbuseQuery(t.store, ABUSE_RULES, { now: () => now });
    expect((await query.list({ limit: 50 })).items.map((i) => i.id)).toEqual(['u-abuser', 'acct-shared']);
    // Three more buyers on one new account: a new subject to report.
    const more = ['p1', 'p2', 'p3'].map((n) => order(`o-${n}`, `u-${n}`, 'acct-new'));
    await given(t.store, caseAnalyticsProjection, more);
    const position = Math.max(...more.map((e) => e.position));
    // Read before those events: kept for a caller who asks for no later position.
    expect((await query.list({ limit: 50 })).items.map((i) => i.id)).toEqual(['u-abuser', 'acct-shared']);
    // Asked for at their position: read again.
    expect((await query.list({ limit: 50, minPosition: position })).items.map((i) => i.id)).toEqual(['u-abuser', 'acct-new', 'acct-shared']);
    // And a report past its age is read again for anyone.
    const aged = new AbuseQuery(t.store, ABUSE_RULES, { now: () => now });
    await aged.list({ limit: 50 });
    await given(t.store, caseAnalyticsProjection, [order('o-p4', 'u-p4', 'acct-late'), order('o-p5', 'u-p5', 'acct-late'), order('o-p6', 'u-p6', 'acct-late')]);
    now += ABUSE_REPORT_MAX_AGE_MS;
    expect((await aged.list({ limit: 50 })).items.map((i) => i.id)).toContain('acct-late');
  });

  it('reads the report in slices of whole subjects, with the same result as in one go', async () => {
    const whole = await new AbuseQuery(t.store, { ...ABUSE_RULES, minCases: 1 }).list({ limit: 50 });
    for (const sliceRows of [1, 2, 3]) {
      const sliced = await new AbuseQuery(t.store, { ...ABUSE_RULES, minCases: 1 }, { sliceRows }).list({ limit: 50 });
      expect({ sliceRows, items: sliced.items }).toEqual({ sliceRows, items: whole.items });
    }
    expect(whole.items.length).toBeGreaterThan(2);
  });
});
