import type { Actor } from '../kinds';
import { lineRefundableFor, sumOf } from '../money';
import { assertNever } from '../refusal';
import type { LineAmount, LineQuantity, OrderEvent, OrderLineSnapshot, OrderSnapshot } from './events';

export type OrderStatus = 'placed' | 'shipped' | 'delivered';

export interface OrderLine extends OrderLineSnapshot {
  /** Units given back by completed cases; they cannot be asked for again. */
  givenBack: number;
  /** Reserved, not yet settled. */
  reserved: number;
  /** Settled. */
  refunded: number;
  /** The active case holding the line, if any. */
  heldBy?: string;
}

export interface CaseHold {
  lines: LineQuantity[];
  active: boolean;
  /** The case revision the hold was decided at (see OrderLinesHeld). */
  caseRevision?: number;
  /** When the hold was recorded (the repair pass waits a while before fencing a case never written). */
  heldAt?: string;
}

export interface RefundReservation {
  refundId: string;
  caseId: string;
  amount: number;
  lines: LineAmount[];
  status: 'reserved' | 'settled' | 'released';
  /** The case revision the reservation was decided at (see RefundReserved). */
  caseRevision?: number;
}

export interface RegisteredOrder {
  status: OrderStatus;
  orderId: string;
  buyerId: string;
  merchantId: string;
  currency: string;
  paidAmount: number;
  shippingFee: number;
  paymentMethod: string;
  paymentAccount: string;
  buyerTrustScore: number;
  returnShippingInsured: boolean;
  businessLine: string;
  placedAt: string;
  /** Lines in snapshot order (pro-rata remainders go to the last one). */
  lines: OrderLine[];
  snapshot: OrderSnapshot;
  shipment?: { carrier: string; trackingNumber: string; shippedAt: string };
  shippedAt?: string;
  deliveredAt?: string;
  /** Every case that ever held lines, by caseId (active or released). */
  holds: Record<string, CaseHold>;
  reservations: Record<string, RefundReservation>;
}

export type OrderState = { status: 'none' } | RegisteredOrder;

export const initialOrderState: OrderState = { status: 'none' };

export const isRegistered = (order: OrderState): order is RegisteredOrder => order.status !== 'none';

export function evolveOrder(state: OrderState, event: OrderEvent & { metadata?: { occurredAt?: string } }): OrderState {
  if (event.type === 'OrderRegistered') {
    const s = event.data;
    return {
      status: 'placed',
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
      placedAt: s.placedAt,
      lines: s.lines.map((l) => ({ ...l, givenBack: 0, reserved: 0, refunded: 0 })),
      snapshot: s,
      holds: {},
      reservations: {},
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'OrderShipped':
      return {
        ...state,
        status: state.status === 'delivered' ? 'delivered' : 'shipped',
        shipment: { ...event.data },
        shippedAt: event.data.shippedAt,
      };
    case 'OrderDelivered':
      return { ...state, status: 'delivered', deliveredAt: event.data.deliveredAt };
    case 'OrderLinesHeld': {
      const { caseId, lines, caseRevision } = event.data;
      const held = new Set(lines.map((l) => l.lineId));
      const hold: CaseHold = { lines: lines.map((l) => ({ lineId: l.lineId, quantity: l.quantity })), active: true, caseRevision, heldAt: event.metadata?.occurredAt };
      return {
        ...state,
        lines: state.lines.map((l) => (held.has(l.lineId) ? { ...l, heldBy: caseId } : l)),
        holds: { ...state.holds, [caseId]: hold },
      };
    }
    case 'OrderLinesReleased': {
      const { caseId, givenBack } = event.data;
      const back = new Map(givenBack.map((l) => [l.lineId, l.quantity]));
      const hold = state.holds[caseId];
      return {
        ...state,
        lines: state.lines.map((l) =>
          l.heldBy === caseId ? { ...l, heldBy: undefined, givenBack: l.givenBack + (back.get(l.lineId) ?? 0) } : l,
        ),
        holds: hold ? { ...state.holds, [caseId]: { ...hold, active: false } } : state.holds,
      };
    }
    case 'RefundReserved': {
      const { refundId, caseId, amount, lines, caseRevision } = event.data;
      const add = new Map(lines.map((l) => [l.lineId, l.amount]));
      return {
        ...state,
        lines: state.lines.map((l) => (add.has(l.lineId) ? { ...l, reserved: l.reserved + (add.get(l.lineId) ?? 0) } : l)),
        reservations: {
          ...state.reservations,
          [refundId]: { refundId, caseId, amount, lines: lines.map((l) => ({ ...l })), status: 'reserved', caseRevision },
        },
      };
    }
    case 'RefundReservationSettled':
    case 'RefundReservationReleased': {
      const reservation = state.reservations[event.data.refundId];
      if (!reservation || reservation.status !== 'reserved') return state;
      const settled = event.type === 'RefundReservationSettled';
      const per = new Map(reservation.lines.map((l) => [l.lineId, l.amount]));
      return {
        ...state,
        lines: state.lines.map((l) => {
          const amount = per.get(l.lineId);
          if (amount === undefined) return l;
          return { ...l, reserved: l.reserved - amount, refunded: settled ? l.refunded + amount : l.refunded };
        }),
        reservations: {
          ...state.reservations,
          [reservation.refundId]: { ...reservation, status: settled ? 'settled' : 'released' },
        },
      };
    }
    default:
      return assertNever(event);
  }
}

export const foldOrder = (events: readonly OrderEvent[]): OrderState => events.reduce(evolveOrder, initialOrderState);

export interface RefundLedger {
  paid: number;
  reserved: number;
  refunded: number;
  refundable: number;
}

/** DOMAIN.md, *Money*: refundable = paid − reserved − refunded. */
export function refundLedger(order: OrderState): RefundLedger {
  if (order.status === 'none') return { paid: 0, reserved: 0, refunded: 0, refundable: 0 };
  const all = Object.values(order.reservations);
  const reserved = sumOf(all.filter((r) => r.status === 'reserved').map((r) => r.amount));
  const refunded = sumOf(all.filter((r) => r.status === 'settled').map((r) => r.amount));
  return { paid: order.paidAmount, reserved, refunded, refundable: order.paidAmount - reserved - refunded };
}

export const findLine = (order: RegisteredOrder, lineId: string): OrderLine | undefined =>
  order.lines.find((l) => l.lineId === lineId);

export const remainingUnits = (line: OrderLine): number => line.quantity - line.givenBack;

const moneyOf = (line: OrderLine) => ({
  paidAmount: line.paidAmount,
  quantity: line.quantity,
  givenBack: line.givenBack,
  left: line.paidAmount - line.reserved - line.refunded,
});

/** Refundable for `quantity` units of a line, for a request not yet holding it; 0 for an unknown line. */
export function lineRefundable(order: OrderState, lineId: string, quantity: number): number {
  if (order.status === 'none') return 0;
  const line = findLine(order, lineId);
  return line ? lineRefundableFor(moneyOf(line), quantity) : 0;
}

/** What one case reserved or had settled on a line (released reservations no longer count). */
export function caseReservedOnLine(order: RegisteredOrder, caseId: string, lineId: string): number {
  return sumOf(
    Object.values(order.reservations)
      .filter((r) => r.caseId === caseId && r.status !== 'released')
      .flatMap((r) => r.lines.filter((l) => l.lineId === lineId).map((l) => l.amount)),
  );
}

/** Each line's refundable for a case, less what that case already took from it. */
export function caseLineRefundables(
  order: OrderState,
  caseId: string,
  lines: readonly LineQuantity[],
): { lineId: string; refundable: number }[] {
  if (order.status === 'none') return [];
  return lines.map(({ lineId, quantity }) => {
    const line = findLine(order, lineId);
    const refundable = line ? lineRefundableFor(moneyOf(line), quantity, caseReservedOnLine(order, caseId, lineId)) : 0;
    return { lineId, refundable };
  });
}

/** A case's refundable: the sum over its lines, at most the order's refundable. */
export function caseRefundable(order: OrderState, caseId: string, lines: readonly LineQuantity[]): number {
  const sum = sumOf(caseLineRefundables(order, caseId, lines).map((l) => l.refundable));
  return Math.max(0, Math.min(sum, refundLedger(order).refundable));
}

/** Who may see an order (API.md, "Identity"). */
export function canSeeOrder(order: OrderState, actor: Actor): order is RegisteredOrder {
  if (order.status === 'none') return false;
  switch (actor.role) {
    case 'buyer':
      return order.buyerId === actor.id;
    case 'merchant':
      return actor.merchantId !== undefined && order.merchantId === actor.merchantId;
    case 'agent':
      return actor.businessLine !== undefined && order.businessLine === actor.businessLine;
    case 'arbitrator':
    case 'admin':
    case 'integration':
    case 'system':
      return true;
    default:
      return assertNever(actor.role);
  }
}
