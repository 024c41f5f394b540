import { splitProRata, sumOf } from '../money';
import { accept, assertNever, broken, refuse, type Decision } from '../refusal';
import { canonicalInstant, instant } from '../time';
import { ORDER_COMMAND_ROLES, type OrderCommand, type OrderCommandType } from './commands';
import type { LineQuantity, OrderEvent, OrderSnapshot } from './events';
import { caseLineRefundables, findLine, refundLedger, remainingUnits, type OrderState, type RegisteredOrder } from './state';

export interface OrderContext {
  now: Date;
}

const ORDER_ACTIONS: Record<RegisteredOrder['status'], OrderCommandType[]> = {
  placed: ['register', 'mark-shipped'],
  shipped: ['register', 'mark-shipped', 'mark-delivered'],
  delivered: ['register', 'mark-shipped', 'mark-delivered'],
};

/**
 * The order stream's decider: the consistency boundary for lines and money.
 * Repeated commands (same snapshot, same shipment, same hold) record nothing,
 * so callers may retry freely.
 */
export function decideOrder(state: OrderState, command: OrderCommand, _ctx: OrderContext): Decision<OrderEvent> {
  const role = ORDER_COMMAND_ROLES[command.type];
  if (command.actor.role !== role) {
    return refuse({ type: 'RoleNotPermitted', action: command.type, role: command.actor.role });
  }
  if (command.type === 'register') return register(state, command.data);
  if (state.status === 'none') return refuse({ type: 'NotFound', detail: 'unknown order' });
  switch (command.type) {
    case 'mark-shipped':
      return markShipped(state, command.data);
    case 'mark-delivered':
      return markDelivered(state, command.data);
    case 'hold-lines':
      return holdLines(state, command.data);
    case 'release-lines':
      return releaseLines(state, command.data);
    case 'reserve-refund':
      return reserveRefund(state, command.data);
    case 'settle-refund-reservation':
    case 'release-refund-reservation': {
      const reservation = state.reservations[command.data.refundId];
      // Unknown or already done: a retried follow-up, nothing left to do.
      if (!reservation || reservation.status !== 'reserved') return accept([]);
      const type = command.type === 'settle-refund-reservation' ? 'RefundReservationSettled' : 'RefundReservationReleased';
      return accept([{ type, data: { refundId: reservation.refundId, amount: reservation.amount } }]);
    }
    default:
      return assertNever(command);
  }
}

const isAmount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Keeps the snapshot's known fields only, times in canonical form, so equal orders compare equal. */
function normalise(s: OrderSnapshot, placedAt: string): OrderSnapshot {
  return {
    orderId: s.orderId,
    buyerId: s.buyerId,
    merchantId: s.merchantId,
    currency: s.currency,
    paidAmount: s.paidAmount,
    shippingFee: s.shippingFee,
    paymentMethod: s.paymentMethod,
    paymentAccount: s.paymentAccount,
    buyerTrustScore: s.buyerTrustScore,
    returnShippingInsured: s.returnShippingInsured,
    businessLine: s.businessLine,
    placedAt,
    lines: s.lines.map((l) => ({
      lineId: l.lineId,
      sku: l.sku,
      productId: l.productId,
      title: l.title,
      category: l.category,
      supplierId: l.supplierId,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      paidAmount: l.paidAmount,
      noReasonReturn: l.noReasonReturn,
    })),
  };
}

// Line order does not make two snapshots different; everything else does.
const sameSnapshot = (a: OrderSnapshot, b: OrderSnapshot): boolean => {
  const key = (s: OrderSnapshot) =>
    JSON.stringify({ ...s, lines: [...s.lines].sort((x, y) => (x.lineId < y.lineId ? -1 : x.lineId > y.lineId ? 1 : 0)) });
  return key(a) === key(b);
};

function register(state: OrderState, snapshot: OrderSnapshot): Decision<OrderEvent> {
  const placedAt = canonicalInstant(snapshot.placedAt);
  if (placedAt === undefined) return broken('invalid_time', 'placedAt is not an ISO-8601 instant');
  const lines = snapshot.lines ?? [];
  if (lines.length === 0) return broken('invalid_lines', 'an order has at least one line');
  if (new Set(lines.map((l) => l.lineId)).size !== lines.length) return broken('duplicate_line', 'line ids must be distinct');
  if (lines.some((l) => !isAmount(l.quantity) || l.quantity < 1)) return broken('invalid_quantity', 'each line has at least one unit');
  const amounts = [snapshot.paidAmount, snapshot.shippingFee, snapshot.buyerTrustScore, ...lines.flatMap((l) => [l.paidAmount, l.unitPrice])];
  if (!amounts.every(isAmount)) return broken('invalid_order', 'amounts and the trust score are non-negative integers');
  // The ledger's `paid` must be exactly what the lines and shipping cost, or refunds could exceed the payment.
  if (snapshot.paidAmount !== sumOf(lines.map((l) => l.paidAmount)) + snapshot.shippingFee) {
    return broken('paid_amount_mismatch', 'paidAmount must equal the lines\' paidAmount plus shippingFee');
  }
  const normal = normalise(snapshot, placedAt);
  if (state.status === 'none') return accept([{ type: 'OrderRegistered', data: normal }]);
  if (sameSnapshot(normalise(state.snapshot, state.snapshot.placedAt), normal)) return accept([]);
  return refuse({ type: 'Conflict', reason: 'order_snapshot_differs', detail: 'the order is registered with a different snapshot' });
}

function markShipped(state: RegisteredOrder, data: { carrier: string; trackingNumber: string; shippedAt: string }): Decision<OrderEvent> {
  const shippedAt = canonicalInstant(data.shippedAt);
  if (shippedAt === undefined) return broken('invalid_time', 'shippedAt is not an ISO-8601 instant');
  const shipment = { carrier: data.carrier, trackingNumber: data.trackingNumber, shippedAt };
  if (state.shipment) {
    const same = state.shipment.carrier === shipment.carrier && state.shipment.trackingNumber === shipment.trackingNumber && state.shipment.shippedAt === shippedAt;
    return same ? accept([]) : refuse({ type: 'Conflict', reason: 'shipment_differs', detail: 'the order was shipped with another parcel' });
  }
  return accept([{ type: 'OrderShipped', data: shipment }]);
}

function markDelivered(state: RegisteredOrder, data: { deliveredAt: string }): Decision<OrderEvent> {
  if (state.status === 'placed') {
    return refuse({ type: 'ActionNotAllowed', action: 'mark-delivered', status: state.status, allowedActions: ORDER_ACTIONS[state.status] });
  }
  const deliveredAt = canonicalInstant(data.deliveredAt);
  if (deliveredAt === undefined) return broken('invalid_time', 'deliveredAt is not an ISO-8601 instant');
  if (state.deliveredAt !== undefined) {
    return state.deliveredAt === deliveredAt
      ? accept([])
      : refuse({ type: 'Conflict', reason: 'delivery_differs', detail: 'the order was delivered at another time' });
  }
  if ((instant(deliveredAt) ?? 0) < (instant(state.shippedAt ?? deliveredAt) ?? 0)) {
    return broken('delivered_before_shipped', 'deliveredAt is before shippedAt');
  }
  return accept([{ type: 'OrderDelivered', data: { deliveredAt } }]);
}

function holdLines(state: RegisteredOrder, data: { caseId: string; lines: LineQuantity[]; caseRevision: number }): Decision<OrderEvent> {
  const { caseId, lines, caseRevision } = data;
  // The same case's request again (a retry after a crash or a lost race): its hold stands.
  if (state.holds[caseId]?.active) return accept([]);
  if (lines.length === 0) return broken('invalid_lines', 'a hold names at least one line');
  if (new Set(lines.map((l) => l.lineId)).size !== lines.length) return broken('duplicate_line', 'line ids must be distinct');
  for (const { lineId, quantity } of lines) {
    const line = findLine(state, lineId);
    if (!line) return broken('unknown_line', `no line ${lineId} on this order`);
    if (!Number.isSafeInteger(quantity) || quantity < 1) return broken('invalid_quantity', `line ${lineId}: quantity must be at least 1`);
    if (line.heldBy !== undefined && line.heldBy !== caseId) {
      return broken('line_held_by_active_case', `line ${lineId} is held by case ${line.heldBy}`);
    }
    if (quantity > remainingUnits(line)) {
      return broken('quantity_above_remaining', `line ${lineId}: ${quantity} asked, ${remainingUnits(line)} left`);
    }
  }
  return accept([{ type: 'OrderLinesHeld', data: { caseId, lines: lines.map((l) => ({ lineId: l.lineId, quantity: l.quantity })), caseRevision } }]);
}

function releaseLines(state: RegisteredOrder, data: { caseId: string; givenBack: LineQuantity[] }): Decision<OrderEvent> {
  const hold = state.holds[data.caseId];
  if (!hold?.active) return accept([]);
  // Never give back more than the case held, whatever the caller says.
  const held = new Map(hold.lines.map((l) => [l.lineId, l.quantity]));
  const givenBack = data.givenBack
    .filter((l) => held.has(l.lineId) && l.quantity > 0)
    .map((l) => ({ lineId: l.lineId, quantity: Math.min(l.quantity, held.get(l.lineId) ?? 0) }));
  return accept([{ type: 'OrderLinesReleased', data: { caseId: data.caseId, givenBack } }]);
}

function reserveRefund(state: RegisteredOrder, data: { refundId: string; caseId: string; amount: number; caseRevision: number }): Decision<OrderEvent> {
  const { refundId, caseId, amount, caseRevision } = data;
  const existing = state.reservations[refundId];
  if (existing) {
    // Only the same decision again (same case, revision and amount, still reserved) may take a
    // reservation over; a released or settled id is never reused (docs/decisions.md, *Money*).
    const same = existing.status === 'reserved' && existing.caseId === caseId && existing.amount === amount && existing.caseRevision === caseRevision;
    return same
      ? accept([])
      : refuse({ type: 'Conflict', reason: 'refund_id_taken', detail: `refund ${refundId} is already reserved for another decision (${existing.status})` });
  }
  if (!Number.isSafeInteger(amount) || amount < 1) return broken('amount_must_be_positive', 'a refund is at least 1 minor unit');
  const hold = state.holds[caseId];
  if (!hold) return broken('case_holds_no_lines', `case ${caseId} holds no lines on this order`);
  const parts = caseLineRefundables(state, caseId, hold.lines).map((l) => ({ key: l.lineId, cap: l.refundable }));
  const linesRefundable = sumOf(parts.map((p) => p.cap));
  const { refundable } = refundLedger(state);
  if (amount > refundable || amount > linesRefundable) {
    return broken('amount_above_refundable', `asked ${amount}; lines allow ${linesRefundable}, the order ${refundable}`);
  }
  const lines = splitProRata(amount, parts).map((s) => ({ lineId: s.key, amount: s.amount }));
  return accept([{ type: 'RefundReserved', data: { refundId, caseId, amount, lines, caseRevision } }]);
}
