import { refundLedger, type OrderSnapshot, type RefundLedger, type RegisteredOrder } from '@aftersales/domain';

/** GET /v1/orders/:orderId: the snapshot as registered, its progress and the refund ledger. */
export interface OrderView extends OrderSnapshot {
  status: RegisteredOrder['status'];
  shippedAt?: string;
  deliveredAt?: string;
  revision: number;
  refundLedger: RefundLedger;
}

export function toOrderView(order: RegisteredOrder, revision: number): OrderView {
  return {
    ...order.snapshot,
    status: order.status,
    ...(order.shippedAt ? { shippedAt: order.shippedAt } : {}),
    ...(order.deliveredAt ? { deliveredAt: order.deliveredAt } : {}),
    revision,
    refundLedger: refundLedger(order),
  };
}
