import { allowedActions, statusLabel, type Actor, type AfterSalesCase, type Policy } from '@aftersales/domain';

/** GET /v1/cases/:caseId, as API.md shapes it, for one caller. */
export interface CaseView {
  caseId: string;
  orderId: string;
  buyerId: string;
  merchantId: string;
  businessLine: string;
  kind: string;
  reason: string;
  responsible: string;
  department: string;
  status: string;
  closedReason?: string;
  statusLabel: string;
  requestedAmount: number;
  agreedAmount?: number;
  refunded: number;
  currency: string;
  lines: Array<{ lineId: string; quantity: number; productId: string; category: string; supplierId: string }>;
  deadlines: Record<string, string>;
  pickup?: { carrier: string; trackingNumber: string; windowStart: string; windowEnd: string };
  returnParcel?: ParcelView;
  replacementParcel?: ParcelView;
  refunds: Array<{ refundId: string; amount: number; purpose: string; express: boolean; status: string }>;
  assignee?: string;
  priority: number;
  revision: number;
  allowedActions: string[];
  requestedAt: string;
  updatedAt: string;
}

export interface ParcelView {
  carrier: string;
  trackingNumber: string;
  shippedAt?: string;
  collectedAt?: string;
  deliveredAt?: string;
}

const parcel = (p: AfterSalesCase['returnParcel']): ParcelView | undefined =>
  p && {
    carrier: p.carrier,
    trackingNumber: p.trackingNumber,
    ...(p.shippedAt ? { shippedAt: p.shippedAt } : {}),
    ...(p.collectedAt ? { collectedAt: p.collectedAt } : {}),
    ...(p.deliveredAt ? { deliveredAt: p.deliveredAt } : {}),
  };

export function toCaseView(c: AfterSalesCase, revision: number, caller: Actor, now: Date, policy: Policy, buyerFlagged = false): CaseView {
  return {
    caseId: c.caseId,
    orderId: c.orderId,
    buyerId: c.buyerId,
    merchantId: c.merchantId,
    businessLine: c.businessLine,
    kind: c.kind,
    reason: c.reason,
    responsible: c.responsible,
    department: c.department,
    status: c.status,
    ...(c.closedReason ? { closedReason: c.closedReason } : {}),
    statusLabel: statusLabel(c.status, caller.role),
    requestedAmount: c.requestedAmount,
    ...(c.agreedAmount !== undefined ? { agreedAmount: c.agreedAmount } : {}),
    refunded: c.refunded,
    currency: c.currency,
    lines: c.lines.map(({ lineId, quantity, productId, category, supplierId }) => ({ lineId, quantity, productId, category, supplierId })),
    deadlines: { ...c.deadlines } as Record<string, string>,
    ...(c.pickup ? { pickup: { ...c.pickup } } : {}),
    ...(c.returnParcel ? { returnParcel: parcel(c.returnParcel) } : {}),
    ...(c.replacementParcel ? { replacementParcel: parcel(c.replacementParcel) } : {}),
    refunds: c.refunds.map(({ refundId, amount, purpose, express, status }) => ({ refundId, amount, purpose, express, status })),
    ...(c.assignee ? { assignee: c.assignee } : {}),
    priority: c.priority,
    revision,
    allowedActions: allowedActions(c, caller, now, policy, buyerFlagged),
    requestedAt: c.requestedAt,
    updatedAt: c.updatedAt,
  };
}
