import { orderCommandsFor } from '../effects';
import { refundLedger } from '../order/state';
import { SYSTEM_ACTOR } from '../kinds';
import { act, after, agent, buyer, DAY, given, HOUR, integration, merchant, orderSnapshot, request, settled, system, World } from '../testing';
import { iso } from '../time';

// Refunds, express refunds and shipping insurance across the case and order streams.

const at = (ms: number) => iso(after(ms));
const trusted = () => new World().delivered(orderSnapshot({ buyerTrustScore: 750 }));
const collecting = (w: World) =>
  w.run(request({ pickup: true }), act('approve', merchant)).run(
    act('schedule-pickup', system, { carrier: 'SF', trackingNumber: 'PK-1', windowStart: at(DAY), windowEnd: at(DAY + HOUR) }),
  );
const collected = { trackingNumber: 'PK-1', at: at(DAY) };

describe('express refund (极速退款)', () => {
  test('a trusted buyer is refunded when the courier collects', () => {
    const w = collecting(trusted());
    const state = given(w.events()).when(act('return-collected', integration, collected), w.ctx()).then(
      { type: 'ReturnCollected', data: collected },
      { type: 'ShippingInsuranceClaimed', data: { claimId: 'c1-ins', amount: 1_000 } },
      { type: 'ExpressRefundGranted', data: { refundId: expect.any(String) as string, amount: 10_000 } },
      { type: 'RefundIssued', data: { refundId: expect.any(String) as string, amount: 10_000, purpose: 'refund', express: true } },
      { type: 'DeadlineSet', data: { name: 'returnTransit', dueAt: at(5 * DAY) } },
    );
    expect(state).toMatchObject({ status: 'return_in_transit', expressCovered: 10_000 });
    // The grant names the refund it issues.
    const express = state.status !== 'none' ? state.refunds : [];
    expect(express).toHaveLength(1);
    expect(w.send(act('return-collected', integration, collected))).toMatchObject({ events: [{}, {}, { data: { refundId: express[0].refundId } }, { data: { refundId: express[0].refundId } }, {}] });
  });

  test('not for low trust, a flagged buyer, or above the maximum amount', () => {
    const low = collecting(new World().delivered());
    given(low.events()).when(act('return-collected', integration, collected), low.ctx()).thenTypes('ReturnCollected', 'ShippingInsuranceClaimed', 'DeadlineSet');
    const flagged = collecting(trusted());
    flagged.buyerFlagged = true;
    given(flagged.events()).when(act('return-collected', integration, collected), flagged.ctx()).thenTypes('ReturnCollected', 'ShippingInsuranceClaimed', 'DeadlineSet');
    const capped = collecting(trusted());
    capped.policy = { ...capped.policy, expressRefundMaxAmount: 9_999 };
    given(capped.events()).when(act('return-collected', integration, collected), capped.ctx()).thenTypes('ReturnCollected', 'ShippingInsuranceClaimed', 'DeadlineSet');
  });

  test('never pays twice: receipt completes once the express refund has settled', () => {
    const w = collecting(trusted()).run(act('return-collected', integration, collected));
    w.run(settled(w.case().refunds[0].refundId, at(DAY)));
    expect(w.case()).toMatchObject({ status: 'return_in_transit', refunded: 10_000 });
    given(w.events()).when(act('confirm-receipt', merchant, { inspection: 'passed' }), w.ctx()).then(
      { type: 'ReturnReceived', data: { inspection: 'passed', auto: false } },
      { type: 'CaseCompleted', data: {} },
    );
  });

  test('receipt before the express refund settles waits in refunding, then completes', () => {
    const w = collecting(trusted()).run(act('return-collected', integration, collected), act('confirm-receipt', merchant, { inspection: 'passed' }));
    expect(w.case()).toMatchObject({ status: 'refunding', refunds: [{ express: true, status: 'pending' }] });
    w.run(settled(w.case().refunds[0].refundId, at(2 * DAY)));
    expect(w.case().status).toBe('completed');
    expect(refundLedger(w.order)).toEqual({ paid: 30_999, reserved: 0, refunded: 10_000, refundable: 20_999 });
  });

  test('a failed inspection after an express refund goes to arbitration like any other', () => {
    const w = collecting(trusted()).run(act('return-collected', integration, collected));
    w.run(act('confirm-receipt', merchant, { inspection: 'failed', evidence: ['https://img.example/1.jpg'] }));
    expect(w.case()).toMatchObject({ status: 'escalated', expressCovered: 10_000 });
  });
});

describe('shipping insurance (运费险)', () => {
  test('claimed once, with the first parcel event', () => {
    const w = collecting(new World().delivered()).run(act('return-collected', integration, collected));
    expect(w.events().filter((e) => e.type === 'ShippingInsuranceClaimed')).toHaveLength(1);
    given(w.events()).when(act('return-delivered', integration, { trackingNumber: 'PK-1', at: at(2 * DAY) }), w.ctx()).thenTypes('ReturnDelivered', 'DeadlineSet');
  });

  test('nothing to claim on an uninsured order', () => {
    const w = new World().delivered(orderSnapshot({ returnShippingInsured: false })).run(request(), act('approve', merchant));
    given(w.events()).when(act('ship-return', buyer, { carrier: 'SF', trackingNumber: 'RT-1' }), w.ctx()).thenTypes('ReturnShipped', 'DeadlineSet');
  });
});

describe('order follow-ups', () => {
  test('a request holds its lines before the case is recorded; compensation holds none', () => {
    const w = new World().delivered();
    const d = given([]).when(request(), w.ctx()).decision;
    if (!d.ok) throw new Error('refused');
    const afterState = given([]).when(request(), w.ctx()).then(...d.events);
    expect(orderCommandsFor({ status: 'none' }, d.events, afterState)).toEqual({
      before: [{ type: 'hold-lines', actor: SYSTEM_ACTOR, data: { caseId: 'c1', lines: [{ lineId: 'L1', quantity: 1 }], caseRevision: -1 } }],
      after: [],
    });
    w.run(request({ caseId: 'c9', kind: 'compensation', reason: 'late_delivery', requestedAmount: 50 }));
    expect(w.order.status !== 'none' && w.order.holds.c9).toBeUndefined();
  });

  test('refunds reserve first, settle after; completion releases lines and gives units back', () => {
    const w = new World().delivered().run(request({ kind: 'refund_only', reason: 'not_received' }));
    const before = w.state();
    const d = given(w.events()).when(act('approve', merchant), w.ctx());
    const afterApprove = d.thenTypes('MerchantAgreed', 'RefundIssued');
    expect(orderCommandsFor(before, d.decision.ok ? d.decision.events : [], afterApprove).before).toEqual([
      // The refund is named after the case revision of the decision's first event (ReturnRequested 0, DeadlineSet 1).
      { type: 'reserve-refund', actor: SYSTEM_ACTOR, data: { refundId: 'c1-r2', caseId: 'c1', amount: 10_000, caseRevision: 1 } },
    ]);
    w.run(act('approve', merchant));
    const s = given(w.events()).when(settled('c1-r2', at(HOUR)), w.ctx());
    const done = s.thenTypes('RefundSettled', 'CaseCompleted');
    expect(orderCommandsFor(w.state(), s.decision.ok ? s.decision.events : [], done).after).toEqual([
      { type: 'settle-refund-reservation', actor: SYSTEM_ACTOR, data: { refundId: 'c1-r2' } },
      { type: 'release-lines', actor: SYSTEM_ACTOR, data: { caseId: 'c1', givenBack: [{ lineId: 'L1', quantity: 1 }] } },
    ]);
  });

  test('a closed case releases its lines without giving units back; payouts touch no reservation', () => {
    // A payout binds the buyer (no withdrawing), so the case closes when the appeal window after a rejection passes.
    const w = new World().delivered().run(request(), act('claim', agent), act('compensate', agent, { amount: 300, form: 'coupon' }));
    const payout = w.case().refunds[0].refundId;
    w.run(act('reject', merchant, { reason: 'worn' }));
    const dueAt = w.case().deadlines.buyerAppeal ?? '';
    w.at(dueAt).run(act('deadline-passed', system, { name: 'buyerAppeal', dueAt }));
    expect(w.order.status !== 'none' && w.order.lines[0]).toMatchObject({ heldBy: undefined, givenBack: 0 });
    w.run(settled(payout, at(8 * DAY)));
    expect(refundLedger(w.order)).toEqual({ paid: 30_999, reserved: 0, refunded: 0, refundable: 30_999 });
    expect(w.case()).toMatchObject({ status: 'closed', refunded: 300, compensated: 300 });
  });

  test('a final refund failure keeps the money reserved for an agent to decide', () => {
    const w = new World().delivered().run(request({ kind: 'partial_refund', requestedAmount: 6_000 }), act('approve', merchant));
    w.run(act('refund-failed', integration, { refundId: w.case().refunds[0].refundId, attempt: 3, final: true }));
    expect(refundLedger(w.order).reserved).toBe(6_000);
    expect(w.case()).toMatchObject({ status: 'refunding', needsAgent: 'refund_failed' });
  });

  test('two cases on one order never refund more than was paid', () => {
    const w = new World().delivered();
    w.run(request({ kind: 'partial_refund', requestedAmount: 20_000, lines: [{ lineId: 'L1', quantity: 2 }] }));
    w.run(request({ caseId: 'c2', kind: 'partial_refund', requestedAmount: 9_999, lines: [{ lineId: 'L2', quantity: 1 }] }));
    w.runOn('c1', act('approve', merchant)).runOn('c2', act('approve', merchant));
    expect(refundLedger(w.order)).toEqual({ paid: 30_999, reserved: 29_999, refunded: 0, refundable: 1_000 });
  });
});
