import type { Actor } from '../kinds';
import type { LineQuantity, OrderSnapshot } from './events';

type Command<T extends string, D> = { type: T; actor: Actor; data: D };

// Fed by the order system (integration).
export type RegisterOrder = Command<'register', OrderSnapshot>;
export type MarkShipped = Command<'mark-shipped', { carrier: string; trackingNumber: string; shippedAt: string }>;
export type MarkDelivered = Command<'mark-delivered', { deliveredAt: string }>;
// Asked for by case decisions (system), see orderCommandsFor.
// `caseRevision`: the case stream revision the case decision was made at (-1: no case yet);
// the case append that follows expects exactly it (docs/decisions.md, *Money*).
export type HoldLines = Command<'hold-lines', { caseId: string; lines: LineQuantity[]; caseRevision: number }>;
export type ReleaseLines = Command<'release-lines', { caseId: string; givenBack: LineQuantity[] }>;
export type ReserveRefund = Command<'reserve-refund', { refundId: string; caseId: string; amount: number; caseRevision: number }>;
export type SettleRefundReservation = Command<'settle-refund-reservation', { refundId: string }>;
export type ReleaseRefundReservation = Command<'release-refund-reservation', { refundId: string }>;

export type OrderCommand =
  | RegisterOrder
  | MarkShipped
  | MarkDelivered
  | HoldLines
  | ReleaseLines
  | ReserveRefund
  | SettleRefundReservation
  | ReleaseRefundReservation;

export type OrderCommandType = OrderCommand['type'];

export const ORDER_COMMAND_ROLES: Readonly<Record<OrderCommandType, Actor['role']>> = {
  register: 'integration',
  'mark-shipped': 'integration',
  'mark-delivered': 'integration',
  'hold-lines': 'system',
  'release-lines': 'system',
  'reserve-refund': 'system',
  'settle-refund-reservation': 'system',
  'release-refund-reservation': 'system',
};
