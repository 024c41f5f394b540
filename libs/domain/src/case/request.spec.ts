import { act, after, agent, DAY, foreignAgent, given, merchant, otherBuyer, orderSnapshot, request, T0, World } from '../testing';
import { effectivePolicy } from '../policy';
import { refundLedger } from '../order/state';

// The `request` row's conditions, one rule at a time.

const delivered = () => new World().delivered();
const when = (w: World, command: ReturnType<typeof request>) => given(w.events(command.data.caseId)).when(command, w.ctx());

describe('who may ask', () => {
  test('only the order\'s buyer, or an agent of its business line', () => {
    when(delivered(), request({}, otherBuyer)).thenRefused('NotFound');
    when(delivered(), request({}, foreignAgent)).thenRefused('NotFound');
    when(delivered(), request({}, merchant)).thenRefused('RoleNotPermitted');
    when(new World(), request()).thenRefused('NotFound');
    when(delivered(), request({}, agent)).thenTypes('ReturnRequested', 'DeadlineSet');
  });

  test('a case id already used: requesting is no longer allowed', () => {
    const w = delivered().run(request());
    when(w, request({ lines: [{ lineId: 'L2', quantity: 1 }] })).thenRefused({ type: 'ActionNotAllowed', action: 'request', allowedActions: ['withdraw'] });
  });
});

describe('kind allowed when the order is', () => {
  test('refund_only: not delivered, or not received', () => {
    const shipped = new World().register().ship();
    when(shipped, request({ kind: 'refund_only' })).thenTypes('ReturnRequested', 'DeadlineSet');
    when(delivered(), request({ kind: 'refund_only' })).thenRefused('kind_not_allowed_now');
    when(delivered(), request({ kind: 'refund_only', reason: 'not_received' })).thenTypes('ReturnRequested', 'DeadlineSet');
  });

  test('return_and_refund once shipped; exchange, repair, reship, partial_refund once delivered; compensation any time', () => {
    const placed = new World().register();
    const shipped = new World().register().ship();
    when(placed, request()).thenRefused('kind_not_allowed_now');
    when(shipped, request()).thenTypes('ReturnRequested', 'DeadlineSet');
    for (const kind of ['exchange', 'repair', 'reship'] as const) {
      when(shipped, request({ kind })).thenRefused('kind_not_allowed_now');
      when(delivered(), request({ kind })).thenTypes('ReturnRequested', 'DeadlineSet');
    }
    when(shipped, request({ kind: 'partial_refund', requestedAmount: 6_000 })).thenRefused('kind_not_allowed_now');
    when(placed, request({ kind: 'compensation', reason: 'service_complaint', requestedAmount: 500 })).thenTypes('ReturnRequested', 'DeadlineSet');
  });
});

describe('windows', () => {
  test('afterSalesWindow counts from delivery, inclusive', () => {
    const w = delivered();
    when(w.at(after(14 * DAY)), request()).thenTypes('ReturnRequested', 'DeadlineSet');
    when(w.at(after(14 * DAY + 1)), request()).thenRefused('outside_after_sales_window');
  });

  test('repair uses warrantyWindow; not_received and compensation have none', () => {
    const w = delivered().at(after(100 * DAY));
    when(w, request({ kind: 'repair', reason: 'quality_defect' })).thenTypes('ReturnRequested', 'DeadlineSet');
    when(w, request({ kind: 'refund_only', reason: 'not_received' })).thenTypes('ReturnRequested', 'DeadlineSet');
    when(w, request({ kind: 'compensation', reason: 'late_delivery', requestedAmount: 100 })).thenTypes('ReturnRequested', 'DeadlineSet');
    when(w.at(after(365 * DAY)), request({ kind: 'repair', reason: 'quality_defect' })).thenRefused('outside_warranty_window');
  });

  test('no_reason_7_days: within noReasonWindow, and only on lines that allow it', () => {
    const w = delivered();
    when(w.at(after(6 * DAY)), request({ reason: 'no_reason_7_days' })).thenTypes('ReturnRequested', 'DeadlineSet');
    when(w.at(after(6 * DAY + 1)), request({ reason: 'no_reason_7_days' })).thenRefused('no_reason_not_allowed');
    when(delivered(), request({ reason: 'no_reason_7_days', lines: [{ lineId: 'L2', quantity: 1 }] })).thenRefused('no_reason_not_allowed');
    when(new World().register().ship(), request({ reason: 'no_reason_7_days' })).thenRefused('no_reason_not_allowed');
  });
});

describe('lines and quantities', () => {
  test('unknown lines, duplicates and bad quantities', () => {
    when(delivered(), request({ lines: [{ lineId: 'L9', quantity: 1 }] })).thenRefused('unknown_line');
    when(delivered(), request({ lines: [{ lineId: 'L1', quantity: 1 }, { lineId: 'L1', quantity: 1 }] })).thenRefused('duplicate_line');
    when(delivered(), request({ lines: [{ lineId: 'L1', quantity: 0 }] })).thenRefused('invalid_quantity');
    when(delivered(), request({ lines: [] })).thenRefused('invalid_lines');
    when(delivered(), request({ lines: [{ lineId: 'L1', quantity: 3 }] })).thenRefused('quantity_above_remaining');
  });

  test('a line held by another active case is refused; once that case ends, given-back units are gone', () => {
    const w = delivered().run(request({ kind: 'refund_only', reason: 'not_received' }), act('approve', merchant));
    when(w, request({ caseId: 'c2' })).thenRefused('line_held_by_active_case');
    w.run(act('refund-settled', { role: 'integration', id: 'pay' }, { refundId: w.case('c1').refunds[0].refundId, at: after(DAY).toISOString() }));
    expect(w.case('c1').status).toBe('completed');
    when(w, request({ caseId: 'c2', lines: [{ lineId: 'L1', quantity: 2 }] })).thenRefused('quantity_above_remaining');
    const ok = given([]).when(request({ caseId: 'c2', lines: [{ lineId: 'L1', quantity: 1 }] }), w.ctx());
    // One unit came back for 10000: the last unit is worth exactly what is left.
    expect(ok.decision).toMatchObject({ ok: true, events: [{ data: { requestedAmount: 10_000 } }, {}] });
  });

  test('compensation holds no lines: it may name a line another case holds', () => {
    const w = delivered().run(request());
    when(w, request({ caseId: 'c2', kind: 'compensation', reason: 'late_delivery', requestedAmount: 800 })).thenTypes('ReturnRequested', 'DeadlineSet');
    when(w, request({ caseId: 'c2', kind: 'compensation', reason: 'late_delivery', requestedAmount: 800, lines: [{ lineId: 'L1', quantity: 3 }] })).thenRefused(
      'quantity_above_ordered',
    );
  });
});

describe('requested amount', () => {
  test('defaults to the lines\' refundable for refund_only and return_and_refund', () => {
    const d = when(delivered(), request({ lines: [{ lineId: 'L1', quantity: 2 }, { lineId: 'L2', quantity: 1 }] })).decision;
    expect(d).toMatchObject({ ok: true, events: [{ data: { requestedAmount: 29_999 } }, {}] });
  });

  test('required for partial_refund and compensation; absent for the rest', () => {
    when(delivered(), request({ kind: 'partial_refund' })).thenRefused('amount_required_for_kind');
    when(delivered(), request({ kind: 'compensation', reason: 'late_delivery' })).thenRefused('amount_required_for_kind');
    when(delivered(), request({ kind: 'exchange', requestedAmount: 1 })).thenRefused('amount_not_allowed_for_kind');
    when(delivered(), request({ kind: 'partial_refund', requestedAmount: 0 })).thenRefused('amount_must_be_positive');
  });

  test('at most the refundable; compensation at most the cap', () => {
    when(delivered(), request({ requestedAmount: 10_001 })).thenRefused('amount_above_refundable');
    when(delivered(), request({ requestedAmount: 9_000 })).thenTypes('ReturnRequested', 'DeadlineSet');
    when(delivered(), request({ kind: 'compensation', reason: 'late_delivery', requestedAmount: 10_001 })).thenRefused('compensation_cap_exceeded');
  });

  test('nothing left to refund', () => {
    const w = new World().delivered(orderSnapshot({ lines: [{ ...orderSnapshot().lines[0], paidAmount: 0, unitPrice: 0 }] }));
    when(w, request()).thenRefused('nothing_refundable');
    expect(refundLedger(w.order).refundable).toBe(1_000);
  });
});

describe('auto-review', () => {
  test('a flagged buyer or a low trust score gets a person', () => {
    const w = delivered();
    w.buyerFlagged = true;
    when(w, request({ kind: 'partial_refund', requestedAmount: 3_000 })).thenTypes('ReturnRequested', 'DeadlineSet');
    const low = new World().delivered(orderSnapshot({ buyerTrustScore: 599 }));
    when(low, request({ kind: 'partial_refund', requestedAmount: 3_000 })).thenTypes('ReturnRequested', 'DeadlineSet');
  });

  test('a flagged buyer gets a person before shipment too', () => {
    const placed = new World().register();
    placed.buyerFlagged = true;
    when(placed, request({ kind: 'refund_only' })).thenTypes('ReturnRequested', 'DeadlineSet');
  });

  test('each rule is switched by its policy field, e.g. per merchant', () => {
    const placed = new World(T0, effectivePolicy(undefined, { autoReviewRefundBeforeShipment: 0 })).register();
    // Switched off, the small-amount rule still approves a small refund before shipment.
    expect(when(placed, request({ kind: 'refund_only', requestedAmount: 3_000 })).decision).toMatchObject({
      ok: true,
      events: [{}, { type: 'AutoReviewApproved', data: { rule: 'small_amount_trusted_buyer' } }, {}],
    });
    when(placed, request({ kind: 'refund_only', requestedAmount: 6_000 })).thenTypes('ReturnRequested', 'DeadlineSet');
    const small = new World(T0, effectivePolicy(undefined, undefined, { autoReviewSmallAmount: 0 })).delivered();
    when(small, request({ kind: 'partial_refund', requestedAmount: 3_000 })).thenTypes('ReturnRequested', 'DeadlineSet');
    const both = new World(T0, effectivePolicy({ autoReviewSmallAmount: 0 }, { autoReviewRefundBeforeShipment: 0 })).register();
    when(both, request({ kind: 'refund_only', requestedAmount: 3_000 })).thenTypes('ReturnRequested', 'DeadlineSet');
  });

  test('a small return is approved and waits for the parcel', () => {
    const w = delivered();
    const state = when(w, request({ lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 5_000 })).thenTypes(
      'ReturnRequested',
      'AutoReviewApproved',
      'DeadlineSet',
    );
    expect(state).toMatchObject({ status: 'awaiting_return', agreedAmount: 5_000, autoReviewRule: 'small_amount_trusted_buyer' });
  });
});
