import type { StoredEvent } from '@aftersales/event-store';
import { AbuseQuery, caseAnalyticsProjection, prepareProjection, readCheckpoint, storeBatch } from '@aftersales/read-models';
import { CaseHistory, MERCHANT, PAYMENTS } from './support/case-history';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

// What the worker's abuse watch asks of the case_analytics read model: the
// buyers the report names (no paging, no payment accounts), and how many
// cases a buyer requested after a time (an admin's clear).

/** A refund_only case of `buyerId` requested at `at`, refunded 3,000 (nothing sent back), or left waiting. */
function caseOf(caseId: string, buyerId: string, at: string, refunded: boolean): StoredEvent[] {
  const history = new CaseHistory(caseId).requested(at, { orderId: `o-${caseId}`, buyerId, requestedAmount: 3_000 });
  if (!refunded) return history.events;
  const later = new Date(Date.parse(at) + 60_000).toISOString();
  return history
    .add('MerchantAgreed', { amount: 3_000, auto: false }, later, MERCHANT, 'web')
    .add('RefundIssued', { refundId: `${caseId}-r1`, amount: 3_000, purpose: 'refund', express: false }, later, MERCHANT, 'web')
    .add('RefundSettled', { refundId: `${caseId}-r1`, at: later }, later, PAYMENTS, 'api').events;
}

/** OrderRegistered of `orderId`, paid 10,000 from `paymentAccount`. */
function order(orderId: string, buyerId: string, paymentAccount: string): StoredEvent {
  const at = '2026-04-20T00:00:00.000Z';
  const [event] = new CaseHistory('unused').add(
    'OrderRegistered',
    { orderId, buyerId, merchantId: 'm1', currency: 'CNY', paidAmount: 10_000, shippingFee: 0, paymentMethod: 'card', paymentAccount, buyerTrustScore: 500, returnShippingInsured: false, businessLine: 'apparel', placedAt: at, lines: [] },
    at,
    { role: 'integration', id: 'order-system' },
    'api',
  ).events;
  return { ...event, streamName: `order-${orderId}`, revision: 0 };
}

describe.each(DIALECTS)('abuse report for the abuse watch on %s', (dialect) => {
  let t: TestReadStore;

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
    const events = [
      // One account behind three buyers: the report names it, the watch never sees it.
      ...['b1', 'b2', 'b3', 'b4'].map((c) => order(`o-${c}`, 'u-b', 'acct-shared')),
      ...['a1', 'a2', 'a3', 'a4'].map((c) => order(`o-${c}`, 'u-a', 'acct-shared')),
      order('o-c1', 'u-c', 'acct-shared'),
      // u-b: 3 of 4 cases refunded refund_only, nothing returned (75 %): reported. u-a: 2 of 4 (50 %): not.
      ...caseOf('b1', 'u-b', '2026-05-01T08:00:00.000Z', true),
      ...caseOf('b2', 'u-b', '2026-05-02T08:00:00.000Z', true),
      ...caseOf('b3', 'u-b', '2026-05-03T08:00:00.000Z', true),
      ...caseOf('b4', 'u-b', '2026-05-03T09:30:00.000Z', false),
      ...caseOf('a1', 'u-a', '2026-05-01T08:00:00.000Z', true),
      ...caseOf('a2', 'u-a', '2026-05-02T08:00:00.000Z', true),
      ...caseOf('a3', 'u-a', '2026-05-03T08:00:00.000Z', false),
      ...caseOf('a4', 'u-a', '2026-05-04T08:00:00.000Z', false),
    ];
    await prepareProjection(t.store, caseAnalyticsProjection);
    const expected = await readCheckpoint(t.store.db, caseAnalyticsProjection.name);
    await storeBatch(t.store, caseAnalyticsProjection, { expected, position: Math.max(...events.map((e) => e.position)), events });
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('names every buyer the rules report, with why, and only buyers', async () => {
    const query = new AbuseQuery(t.store);
    expect((await query.list({ limit: 50 })).items.map((i) => [i.subject, i.id])).toEqual([
      ['buyer', 'u-b'],
      ['paymentAccount', 'acct-shared'],
    ]);
    expect(await query.reportedBuyers()).toEqual([
      {
        subject: 'buyer',
        id: 'u-b',
        cases: 4,
        refundRatio: 0.225,
        reasons: ['3 of 4 cases refunded as refund_only with nothing returned (rule: 60% from 3 cases)'],
      },
    ]);
  });

  it('counts the cases a buyer requested strictly after a time', async () => {
    const query = new AbuseQuery(t.store);
    expect(await query.casesRequestedAfter('u-b', '2026-05-03T08:00:00.000Z')).toBe(1);
    expect(await query.casesRequestedAfter('u-b', '2026-05-03T09:30:00.000Z')).toBe(0);
    expect(await query.casesRequestedAfter('u-b', '2026-04-30T00:00:00.000Z')).toBe(4);
    expect(await query.casesRequestedAfter('u-nobody', '2026-04-30T00:00:00.000Z')).toBe(0);
  });

  it('reads the report in slices of whole buyers, with turns of the event loop between them, and finds the same buyers', async () => {
    const query = new AbuseQuery(t.store);
    const whole = await query.reportedBuyers({ sliceCases: 1_000_000 });
    let turns = 0;
    let reading = true;
    const tick = (): void => {
      turns += 1;
      if (reading) setImmediate(tick);
    };
    setImmediate(tick);
    // One case a slice: u-a's and u-b's cases each fall in slices of their own, never split across two.
    const sliced = await query.reportedBuyers({ sliceCases: 1 });
    reading = false;
    expect(sliced).toEqual(whole);
    expect(whole.map((item) => item.id)).toEqual(['u-b']);
    if (dialect === 'sqlite') expect(turns).toBeGreaterThan(0);
  });
});
