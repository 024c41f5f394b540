// Order stream events (API.md, "Events"): the order snapshot, its delivery,
// which case holds which lines, and the refund ledger.

export interface OrderLineSnapshot {
  lineId: string;
  sku: string;
  productId: string;
  title: string;
  category: string;
  supplierId: string;
  quantity: number;
  unitPrice: number;
  /** What was paid for all the line's units. */
  paidAmount: number;
  noReasonReturn: boolean;
}

/** The body of PUT /v1/orders/:orderId, plus the id from its path. */
export interface OrderSnapshot {
  orderId: string;
  buyerId: string;
  merchantId: string;
  currency: string;
  /** Lines plus shipping. */
  paidAmount: number;
  shippingFee: number;
  paymentMethod: string;
  paymentAccount: string;
  buyerTrustScore: number;
  returnShippingInsured: boolean;
  businessLine: string;
  placedAt: string;
  lines: OrderLineSnapshot[];
}

export interface LineQuantity {
  lineId: string;
  quantity: number;
}

export interface LineAmount {
  lineId: string;
  amount: number;
}

export type OrderRegistered = { type: 'OrderRegistered'; data: OrderSnapshot };
export type OrderShipped = { type: 'OrderShipped'; data: { carrier: string; trackingNumber: string; shippedAt: string } };
export type OrderDelivered = { type: 'OrderDelivered'; data: { deliveredAt: string } };
/**
 * `caseRevision` (absent on events written before it existed): the case
 * stream revision the decision that holds or reserves was made at, so the
 * repair pass can tell an append still possible from one that never can be.
 */
export type OrderLinesHeld = { type: 'OrderLinesHeld'; data: { caseId: string; lines: LineQuantity[]; caseRevision?: number } };
export type OrderLinesReleased = { type: 'OrderLinesReleased'; data: { caseId: string; givenBack: LineQuantity[] } };
export type RefundReserved = {
  type: 'RefundReserved';
  data: { refundId: string; caseId: string; amount: number; lines: LineAmount[]; caseRevision?: number };
};
export type RefundReservationSettled = { type: 'RefundReservationSettled'; data: { refundId: string; amount: number } };
export type RefundReservationReleased = { type: 'RefundReservationReleased'; data: { refundId: string; amount: number } };

export type OrderEvent =
  | OrderRegistered
  | OrderShipped
  | OrderDelivered
  | OrderLinesHeld
  | OrderLinesReleased
  | RefundReserved
  | RefundReservationSettled
  | RefundReservationReleased;

export type OrderEventType = OrderEvent['type'];
