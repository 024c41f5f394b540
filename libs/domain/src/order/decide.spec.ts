import { givenOrder, integration, orderAct, orderSnapshot, system, buyer } from '../testing';
import type { OrderEvent } from './events';
import { lineRefundable, refundLedger, caseRefundable } from './state';

const snapshot = orderSnapshot();
const registered: OrderEvent = { type: 'OrderRegistered', data: snapshot };
const shipped: OrderEvent = { type: 'OrderShipped', data: { carrier: 'SF', trackingNumber: 'SF-1', shippedAt: '2025-02-21T10:00:00.000Z' } };
const delivered: OrderEvent = { type: 'OrderDelivered', data: { deliveredAt: '2025-02-22T10:00:00.000Z' } };
const held = (caseId: string, lines: { lineId: string; quantity: number }[]): OrderEvent => ({ type: 'OrderLinesHeld', data: { caseId, lines, caseRevision: -1 } });
const reserved = (refundId: string, caseId: string, amount: number, lines: { lineId: string; amount: number }[], caseRevision = 3): OrderEvent => ({
  type: 'RefundReserved',
  data: { refundId, caseId, amount, lines, caseRevision },
});

const hold = (caseId: string, lines: { lineId: string; quantity: number }[]) => orderAct('hold-lines', system, { caseId, lines, caseRevision: -1 });
const reserve = (refundId: string, caseId: string, amount: number, caseRevision = 3) => orderAct('reserve-refund', system, { refundId, caseId, amount, caseRevision });

describe('order registration', () => {
  test('registers the snapshot, times in canonical form', () => {
    givenOrder([])
      .when(orderAct('register', integration, { ...snapshot, placedAt: '2025-02-20T18:00:00+08:00' }))
      .then({ type: 'OrderRegistered', data: { ...snapshot, placedAt: '2025-02-20T10:00:00.000Z' } });
  });

  test('the same snapshot again is a no-op, lines in any order; a different one conflicts', () => {
    givenOrder([registered]).when(orderAct('register', integration, { ...snapshot, lines: [...snapshot.lines].reverse() })).thenNothing();
    givenOrder([registered]).when(orderAct('register', integration, { ...snapshot, buyerTrustScore: 1 })).thenRefused({
      type: 'Conflict',
      reason: 'order_snapshot_differs',
    });
  });

  test('paid must be the lines plus shipping', () => {
    givenOrder([]).when(orderAct('register', integration, { ...snapshot, paidAmount: 1 })).thenRefused('paid_amount_mismatch');
    givenOrder([]).when(orderAct('register', integration, { ...snapshot, lines: [] })).thenRefused('invalid_lines');
  });

  test('only the order system registers', () => {
    givenOrder([]).when(orderAct('register', buyer, snapshot)).thenRefused('RoleNotPermitted');
  });
});

describe('shipment and delivery', () => {
  test('shipped, then delivered; repeats record nothing', () => {
    givenOrder([registered]).when(orderAct('mark-shipped', integration, shipped.data as never)).then(shipped);
    givenOrder([registered, shipped]).when(orderAct('mark-shipped', integration, shipped.data as never)).thenNothing();
    givenOrder([registered, shipped]).when(orderAct('mark-delivered', integration, delivered.data as never)).then(delivered);
    givenOrder([registered, shipped, delivered]).when(orderAct('mark-delivered', integration, delivered.data as never)).thenNothing();
  });

  test('delivered before shipped is not allowed', () => {
    givenOrder([registered]).when(orderAct('mark-delivered', integration, { deliveredAt: '2025-02-22T10:00:00Z' })).thenRefused({
      type: 'ActionNotAllowed',
      status: 'placed',
    });
  });

  test('commands on an unknown order are 404', () => {
    givenOrder([]).when(orderAct('mark-shipped', integration, { carrier: 'SF', trackingNumber: 'x', shippedAt: '2025-02-21T10:00:00Z' })).thenRefused('NotFound');
  });
});

describe('holding lines', () => {
  const base = [registered, shipped, delivered];

  test('a case holds its lines; the same case again is a no-op', () => {
    givenOrder(base).when(hold('c1', [{ lineId: 'L1', quantity: 1 }])).then(held('c1', [{ lineId: 'L1', quantity: 1 }]));
    givenOrder([...base, held('c1', [{ lineId: 'L1', quantity: 1 }])]).when(hold('c1', [{ lineId: 'L1', quantity: 1 }])).thenNothing();
  });

  test('a line held by another active case, an unknown line, too many units: 422', () => {
    givenOrder([...base, held('c1', [{ lineId: 'L1', quantity: 1 }])]).when(hold('c2', [{ lineId: 'L1', quantity: 1 }])).thenRefused('line_held_by_active_case');
    givenOrder(base).when(hold('c1', [{ lineId: 'L9', quantity: 1 }])).thenRefused('unknown_line');
    givenOrder(base).when(hold('c1', [{ lineId: 'L1', quantity: 3 }])).thenRefused('quantity_above_remaining');
  });

  test('released lines can be held again; given-back units cannot', () => {
    const history = [
      ...base,
      held('c1', [{ lineId: 'L1', quantity: 1 }]),
      { type: 'OrderLinesReleased', data: { caseId: 'c1', givenBack: [{ lineId: 'L1', quantity: 1 }] } } as OrderEvent,
    ];
    givenOrder(history).when(hold('c2', [{ lineId: 'L1', quantity: 1 }])).then(held('c2', [{ lineId: 'L1', quantity: 1 }]));
    givenOrder(history).when(hold('c2', [{ lineId: 'L1', quantity: 2 }])).thenRefused('quantity_above_remaining');
    givenOrder(history).when(orderAct('release-lines', system, { caseId: 'c1', givenBack: [] })).thenNothing();
  });

  test('release never gives back more than was held', () => {
    givenOrder([...base, held('c1', [{ lineId: 'L1', quantity: 1 }])])
      .when(orderAct('release-lines', system, { caseId: 'c1', givenBack: [{ lineId: 'L1', quantity: 2 }, { lineId: 'L2', quantity: 1 }] }))
      .then({ type: 'OrderLinesReleased', data: { caseId: 'c1', givenBack: [{ lineId: 'L1', quantity: 1 }] } });
  });
});

describe('refund ledger', () => {
  const base = [registered, shipped, delivered, held('c1', [{ lineId: 'L1', quantity: 2 }, { lineId: 'L2', quantity: 1 }])];

  test('a reservation is split pro rata to the lines\' refundable, remainder on the last', () => {
    const state = givenOrder(base)
      .when(reserve('c1-r1', 'c1', 1_000))
      .then(reserved('c1-r1', 'c1', 1_000, [{ lineId: 'L1', amount: 666 }, { lineId: 'L2', amount: 334 }]));
    expect(refundLedger(state)).toEqual({ paid: 30_999, reserved: 1_000, refunded: 0, refundable: 29_999 });
  });

  test('settled moves reserved to refunded; released gives it back; repeats do nothing', () => {
    const history = [...base, reserved('c1-r1', 'c1', 1_000, [{ lineId: 'L1', amount: 666 }, { lineId: 'L2', amount: 334 }])];
    const settledState = givenOrder(history)
      .when(orderAct('settle-refund-reservation', system, { refundId: 'c1-r1' }))
      .then({ type: 'RefundReservationSettled', data: { refundId: 'c1-r1', amount: 1_000 } });
    expect(refundLedger(settledState)).toEqual({ paid: 30_999, reserved: 0, refunded: 1_000, refundable: 29_999 });
    const releasedState = givenOrder(history)
      .when(orderAct('release-refund-reservation', system, { refundId: 'c1-r1' }))
      .then({ type: 'RefundReservationReleased', data: { refundId: 'c1-r1', amount: 1_000 } });
    expect(refundLedger(releasedState)).toEqual({ paid: 30_999, reserved: 0, refunded: 0, refundable: 30_999 });
    const done = [...history, { type: 'RefundReservationSettled', data: { refundId: 'c1-r1', amount: 1_000 } } as OrderEvent];
    givenOrder(done).when(orderAct('settle-refund-reservation', system, { refundId: 'c1-r1' })).thenNothing();
    givenOrder(done).when(orderAct('release-refund-reservation', system, { refundId: 'c1-r1' })).thenNothing();
    givenOrder(done).when(orderAct('settle-refund-reservation', system, { refundId: 'nope' })).thenNothing();
    givenOrder(history).when(reserve('c1-r1', 'c1', 1_000)).thenNothing();
  });

  test('a refund id is taken for ever: released or settled, it is never reserved again', () => {
    const history = [...base, reserved('c1-r1', 'c1', 1_000, [{ lineId: 'L1', amount: 666 }, { lineId: 'L2', amount: 334 }])];
    const released = [...history, { type: 'RefundReservationReleased', data: { refundId: 'c1-r1', amount: 1_000 } } as OrderEvent];
    const settled = [...history, { type: 'RefundReservationSettled', data: { refundId: 'c1-r1', amount: 1_000 } } as OrderEvent];
    givenOrder(released).when(reserve('c1-r1', 'c1', 1_000)).thenRefused({ type: 'Conflict', reason: 'refund_id_taken' });
    givenOrder(settled).when(reserve('c1-r1', 'c1', 1_000)).thenRefused({ type: 'Conflict', reason: 'refund_id_taken' });
  });

  test('only the same decision takes a live reservation over: same case, revision and amount', () => {
    const history = [...base, reserved('c1-r1', 'c1', 1_000, [{ lineId: 'L1', amount: 666 }, { lineId: 'L2', amount: 334 }])];
    givenOrder(history).when(reserve('c1-r1', 'c1', 1_000)).thenNothing();
    givenOrder(history).when(reserve('c1-r1', 'c1', 999)).thenRefused({ type: 'Conflict', reason: 'refund_id_taken' });
    givenOrder(history).when(reserve('c1-r1', 'c1', 1_000, 4)).thenRefused({ type: 'Conflict', reason: 'refund_id_taken' });
  });

  test('over-reserving is refused: beyond the lines\' refundable, or for a case without lines', () => {
    givenOrder(base).when(reserve('c1-r1', 'c1', 29_999)).then(reserved('c1-r1', 'c1', 29_999, [{ lineId: 'L1', amount: 20_000 }, { lineId: 'L2', amount: 9_999 }]));
    // The shipping fee is in `paid` but on no line: a case's lines cannot refund it.
    givenOrder(base).when(reserve('c1-r1', 'c1', 30_000)).thenRefused('amount_above_refundable');
    givenOrder(base).when(reserve('c2-r1', 'c2', 1)).thenRefused('case_holds_no_lines');
    const partly = [...base, reserved('c1-r1', 'c1', 28_999, [{ lineId: 'L1', amount: 19_000 }, { lineId: 'L2', amount: 9_999 }])];
    givenOrder(partly).when(reserve('c1-r2', 'c1', 1_001)).thenRefused('amount_above_refundable');
    givenOrder(partly)
      .when(reserve('c1-r2', 'c1', 1_000))
      .then(reserved('c1-r2', 'c1', 1_000, [{ lineId: 'L1', amount: 1_000 }, { lineId: 'L2', amount: 0 }]));
  });

  test('line refundable follows DOMAIN.md: share for some units, all that is left for the rest', () => {
    const state = givenOrder([registered]).state;
    expect(lineRefundable(state, 'L1', 1)).toBe(10_000);
    expect(lineRefundable(state, 'L1', 2)).toBe(20_000);
    expect(lineRefundable(state, 'L9', 1)).toBe(0);
    const after = givenOrder(base).when(reserve('c1-r1', 'c1', 1_000)).then(reserved('c1-r1', 'c1', 1_000, [{ lineId: 'L1', amount: 666 }, { lineId: 'L2', amount: 334 }]));
    expect(caseRefundable(after, 'c1', [{ lineId: 'L1', quantity: 2 }, { lineId: 'L2', quantity: 1 }])).toBe(28_999);
  });
});
