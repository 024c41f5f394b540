// Vocabulary of DOMAIN.md: kinds, reasons, statuses, roles and channels.

export const CASE_KINDS = [
  'refund_only',
  'return_and_refund',
  'exchange',
  'repair',
  'reship',
  'partial_refund',
  'compensation',
] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

/** Goods come back to the merchant. */
export const RETURN_KINDS: readonly CaseKind[] = ['return_and_refund', 'exchange', 'repair'];
/** Money is what the buyer asks for. */
export const MONEY_KINDS: readonly CaseKind[] = ['refund_only', 'return_and_refund', 'partial_refund', 'compensation'];
/** Kinds whose completion gives their units back on the order. */
export const GIVING_BACK_KINDS: readonly CaseKind[] = ['refund_only', 'return_and_refund'];

export const isReturnKind = (kind: CaseKind): boolean => RETURN_KINDS.includes(kind);
export const isMoneyKind = (kind: CaseKind): boolean => MONEY_KINDS.includes(kind);

export const RESPONSIBLE_PARTIES = ['buyer', 'merchant', 'supplier', 'logistics', 'unknown'] as const;
export type Responsible = (typeof RESPONSIBLE_PARTIES)[number];

export const DEPARTMENTS = ['none', 'product_content', 'quality', 'logistics', 'warehouse', 'customer_service'] as const;
export type Department = (typeof DEPARTMENTS)[number];

/** 问题分类 → 部门归属: who answers for each reason. */
export const REASONS = {
  no_reason_7_days: { responsible: 'buyer', department: 'none' },
  changed_mind: { responsible: 'buyer', department: 'none' },
  not_as_described: { responsible: 'merchant', department: 'product_content' },
  quality_defect: { responsible: 'supplier', department: 'quality' },
  damaged_in_transit: { responsible: 'logistics', department: 'logistics' },
  wrong_item: { responsible: 'merchant', department: 'warehouse' },
  missing_item: { responsible: 'merchant', department: 'warehouse' },
  not_received: { responsible: 'logistics', department: 'logistics' },
  late_delivery: { responsible: 'logistics', department: 'logistics' },
  service_complaint: { responsible: 'merchant', department: 'customer_service' },
  other: { responsible: 'unknown', department: 'none' },
} as const satisfies Record<string, { responsible: Responsible; department: Department }>;
export type Reason = keyof typeof REASONS;
export const CASE_REASONS = Object.keys(REASONS) as Reason[];

export const CASE_STATUSES = [
  'pending_merchant',
  'negotiating',
  'rejected',
  'awaiting_return',
  'return_in_transit',
  'refunding',
  'awaiting_replacement',
  'in_repair',
  'replacement_in_transit',
  'escalated',
  'completed',
  'closed',
] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const ENDED_STATUSES: readonly CaseStatus[] = ['completed', 'closed'];
/** "Any open" is every status but completed and closed. */
export const OPEN_STATUSES: readonly CaseStatus[] = CASE_STATUSES.filter((s) => !ENDED_STATUSES.includes(s));
export const isOpenStatus = (status: CaseStatus): boolean => !ENDED_STATUSES.includes(status);

export const BUYER_STATUS_LABELS: Readonly<Record<CaseStatus, string>> = {
  pending_merchant: 'Waiting for the seller (待商家处理)',
  negotiating: 'Seller made an offer (协商中)',
  rejected: 'Seller declined (商家已拒绝)',
  awaiting_return: 'Please return the item (待退货)',
  return_in_transit: 'Return on its way (退货中)',
  refunding: 'Refund in progress (退款中)',
  awaiting_replacement: 'Seller is preparing your item',
  in_repair: 'Being repaired (维修中)',
  replacement_in_transit: 'Replacement on its way',
  escalated: 'Platform is reviewing (平台介入中)',
  completed: 'Done (售后完成)',
  closed: 'Closed (售后关闭)',
};

export const CLOSED_REASONS = ['withdrawn', 'expired', 'rejected', 'ruled_for_merchant'] as const;
export type ClosedReason = (typeof CLOSED_REASONS)[number];

export const ACTOR_ROLES = ['buyer', 'merchant', 'agent', 'arbitrator', 'admin', 'integration', 'system'] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

export interface Actor {
  role: ActorRole;
  id: string;
  merchantId?: string;
  businessLine?: string;
  /** Agents only, minor units; absent means 0. */
  authorityLimit?: number;
}

export const CHANNELS = ['app', 'web', 'im', 'phone', 'agent', 'api'] as const;
export type Channel = (typeof CHANNELS)[number];

export const REFUND_PURPOSES = ['refund', 'compensation'] as const;
export type RefundPurpose = (typeof REFUND_PURPOSES)[number];

export const REFUND_STATUSES = ['pending', 'settled', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const COMPENSATION_FORMS = ['coupon', 'balance', 'cash'] as const;
export type CompensationForm = (typeof COMPENSATION_FORMS)[number];

export const INSPECTION_RESULTS = ['passed', 'failed'] as const;
export type InspectionResult = (typeof INSPECTION_RESULTS)[number];

export const DISPOSITIONS = ['restock', 'refurbish', 'return_to_vendor', 'scrap'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

export const RULINGS = ['buyer', 'merchant'] as const;
export type Ruling = (typeof RULINGS)[number];

/** The actor the domain names when it asks for follow-up order commands. */
export const SYSTEM_ACTOR: Actor = { role: 'system', id: 'aftersales' };
