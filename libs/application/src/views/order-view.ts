import { refundLedger, type RefundLedger, type RegisteredOrder } from '@aftersales/domain';

/** GET /v1/orders/:orderId: the snapshot, its progress and the refund ledger. */
export interface OrderView {
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
  lines: RegisteredOrder['snapshot']['lines'];
  status: string;
  shippedAt?: string;
  deliveredAt?: string;
  revision: number;
  refundLedger: RefundLedger;
}

export function toOrderView(order: RegisteredOrder, revision: number): OrderView {
  const { snapshot } = order;
  return {
    orderId: snapshot.orderId,
    buyerId: snapshot.buyerId,
    merchantId: snapshot.merchantId,
    currency: snapshot.currency,
    paidAmount: snapshot.paidAmount,
    shippingFee: snapshot.shippingFee,
    paymentMethod: snapshot.paymentMethod,
    paymentAccount: snapshot.paymentAccount,
    buyerTrustScore: snapshot.buyerTrustScore,
    returnShippingInsured: snapshot.returnShippingInsured,
    businessLine: snapshot.businessLine,
    placedAt: snapshot.placedAt,
    lines: snapshot.lines,
    status: order.status,
    ...(order.shippedAt ? { shippedAt: order.shippedAt } : {}),
    ...(order.deliveredAt ? { deliveredAt: order.deliveredAt } : {}),
    revision,
    refundLedger: refundLedger(order),
  };
}
