import type {
  CaseKind,
  ClosedReason,
  CompensationForm,
  Department,
  Disposition,
  InspectionResult,
  Reason,
  RefundPurpose,
  Responsible,
  Ruling,
} from '../kinds';
import type { DeadlineName } from '../policy';

// Case stream events: names and payloads exactly as API.md's "Events".

export interface CaseLine {
  lineId: string;
  quantity: number;
  productId: string;
  category: string;
  supplierId: string;
}

type Event<T extends string, D> = { type: T; data: D };
type Empty = Record<string, never>;

export type ReturnRequested = Event<
  'ReturnRequested',
  {
    caseId: string;
    orderId: string;
    buyerId: string;
    merchantId: string;
    businessLine: string;
    kind: CaseKind;
    reason: Reason;
    responsible: Responsible;
    department: Department;
    description?: string;
    lines: CaseLine[];
    requestedAmount: number;
    currency: string;
    evidence: string[];
    pickup: boolean;
  }
>;
export type AutoReviewApproved = Event<'AutoReviewApproved', { rule: AutoReviewRule; amount: number }>;
export type MerchantAgreed = Event<'MerchantAgreed', { amount: number; auto: boolean; trigger?: DeadlineName }>;
export type MerchantRejected = Event<'MerchantRejected', { reason: string; note?: string }>;
export type MerchantCounterOffered = Event<'MerchantCounterOffered', { amount: number; note?: string }>;
export type OfferAccepted = Event<'OfferAccepted', { amount: number }>;
export type OfferDeclined = Event<'OfferDeclined', Empty>;
export type OfferLapsed = Event<'OfferLapsed', Empty>;
export type CaseAmended = Event<
  'CaseAmended',
  { description?: string; requestedAmount?: number; evidence?: string[]; amendment: number }
>;
export type CaseWithdrawn = Event<'CaseWithdrawn', Empty>;
export type CaseUrged = Event<'CaseUrged', { waitingFor: WaitingFor; priority: number }>;
export type DeadlineSet = Event<'DeadlineSet', { name: DeadlineName; dueAt: string }>;
export type PickupScheduled = Event<
  'PickupScheduled',
  { carrier: string; trackingNumber: string; windowStart: string; windowEnd: string }
>;
export type ReturnShipped = Event<'ReturnShipped', { carrier: string; trackingNumber: string; shippedAt: string }>;
export type ReturnCollected = Event<'ReturnCollected', { trackingNumber: string; at: string }>;
export type ReturnDelivered = Event<'ReturnDelivered', { trackingNumber: string; at: string; assumed: boolean }>;
export type ReturnReceived = Event<
  'ReturnReceived',
  { inspection: InspectionResult; disposition?: Disposition; note?: string; evidence?: string[]; auto: boolean }
>;
export type ReturnInspectionFailed = Event<'ReturnInspectionFailed', { note?: string; evidence: string[] }>;
export type ExpressRefundGranted = Event<'ExpressRefundGranted', { refundId: string; amount: number }>;
export type RefundIssued = Event<'RefundIssued', { refundId: string; amount: number; purpose: RefundPurpose; express: boolean }>;
export type RefundSettled = Event<'RefundSettled', { refundId: string; providerRef?: string; at: string }>;
/**
 * `retryAfterMs`: how long the payment centre asked to be left alone
 * (Retry-After) on the attempt's last try; the next attempt waits at least
 * that long, within the back-off's last step.
 */
export type RefundFailed = Event<
  'RefundFailed',
  { refundId: string; error?: string; attempt: number; final: boolean; at?: string; retryAfterMs?: number }
>;
/** A person sends a refund given up for good again: same refundId, a fresh series of attempts. */
export type RefundRetried = Event<'RefundRetried', { refundId: string; by: string; note?: string }>;
export type ShippingInsuranceClaimed = Event<'ShippingInsuranceClaimed', { claimId: string; amount: number }>;
export type ShippingInsurancePaid = Event<'ShippingInsurancePaid', { claimId: string; amount: number }>;
export type ReplacementShipped = Event<'ReplacementShipped', { carrier: string; trackingNumber: string; shippedAt: string }>;
export type ReplacementDelivered = Event<'ReplacementDelivered', { at: string }>;
export type RepairDeclaredUnrepairable = Event<'RepairDeclaredUnrepairable', { note?: string }>;
export type CaseEscalated = Event<'CaseEscalated', { reason?: string }>;
export type ArbitrationRuled = Event<
  'ArbitrationRuled',
  { ruling: Ruling; refundAmount?: number; returnRequired: boolean; note: string }
>;
export type CaseClaimed = Event<'CaseClaimed', { agentId: string }>;
export type CaseReleased = Event<'CaseReleased', { agentId: string }>;
export type CaseAssigned = Event<'CaseAssigned', { agentId: string }>;
export type CaseTransferred = Event<'CaseTransferred', { agentId: string }>;
export type CaseNoteAdded = Event<'CaseNoteAdded', { text: string }>;
export type CompensationGranted = Event<
  'CompensationGranted',
  { refundId: string; amount: number; form: CompensationForm; note?: string }
>;
export type SatisfactionRated = Event<'SatisfactionRated', { score: number; nps?: number; comment?: string }>;
export type CaseCompleted = Event<'CaseCompleted', Empty>;
export type CaseClosed = Event<'CaseClosed', { reason: ClosedReason }>;

/**
 * Written by the repair pass on a case stream that was never created, after
 * the order held lines for it: a fence, so the request that held them can
 * never append its case later (its expected revision "no stream" now fails)
 * and the lines can be released. A case id so marked opens no case.
 */
export type RequestAbandoned = Event<'RequestAbandoned', { caseId: string; orderId: string }>;

export type CaseEvent =
  | ReturnRequested
  | RequestAbandoned
  | AutoReviewApproved
  | MerchantAgreed
  | MerchantRejected
  | MerchantCounterOffered
  | OfferAccepted
  | OfferDeclined
  | OfferLapsed
  | CaseAmended
  | CaseWithdrawn
  | CaseUrged
  | DeadlineSet
  | PickupScheduled
  | ReturnShipped
  | ReturnCollected
  | ReturnDelivered
  | ReturnReceived
  | ReturnInspectionFailed
  | ExpressRefundGranted
  | RefundIssued
  | RefundSettled
  | RefundFailed
  | RefundRetried
  | ShippingInsuranceClaimed
  | ShippingInsurancePaid
  | ReplacementShipped
  | ReplacementDelivered
  | RepairDeclaredUnrepairable
  | CaseEscalated
  | ArbitrationRuled
  | CaseClaimed
  | CaseReleased
  | CaseAssigned
  | CaseTransferred
  | CaseNoteAdded
  | CompensationGranted
  | SatisfactionRated
  | CaseCompleted
  | CaseClosed;

export type CaseEventType = CaseEvent['type'];

export const AUTO_REVIEW_RULES = ['refund_before_shipment', 'small_amount_trusted_buyer'] as const;
export type AutoReviewRule = (typeof AUTO_REVIEW_RULES)[number];

/** Whom a case is waiting for when urged. */
export type WaitingFor = 'merchant' | 'platform';

/**
 * The part of an event's metadata the domain reads. The application records
 * `occurredAt` on every event; evolve takes times from it because payloads
 * (API.md) carry no time of their own for most steps.
 */
export interface EventTime {
  metadata?: { occurredAt?: string };
}

export type RecordedCaseEvent = CaseEvent & EventTime;

/** Every case event type, once (a Record, so the compiler says when one is missing): for subscriptions filtered by type. */
const CASE_EVENT_TYPE_SET: Record<CaseEventType, true> = {
  ReturnRequested: true, RequestAbandoned: true, AutoReviewApproved: true, MerchantAgreed: true, MerchantRejected: true,
  MerchantCounterOffered: true, OfferAccepted: true, OfferDeclined: true, OfferLapsed: true, CaseAmended: true,
  CaseWithdrawn: true, CaseUrged: true, DeadlineSet: true, PickupScheduled: true, ReturnShipped: true,
  ReturnCollected: true, ReturnDelivered: true, ReturnReceived: true, ReturnInspectionFailed: true,
  ExpressRefundGranted: true, RefundIssued: true, RefundSettled: true, RefundFailed: true, RefundRetried: true,
  ShippingInsuranceClaimed: true, ShippingInsurancePaid: true, ReplacementShipped: true, ReplacementDelivered: true,
  RepairDeclaredUnrepairable: true, CaseEscalated: true, ArbitrationRuled: true, CaseClaimed: true, CaseReleased: true,
  CaseAssigned: true, CaseTransferred: true, CaseNoteAdded: true, CompensationGranted: true, SatisfactionRated: true,
  CaseCompleted: true, CaseClosed: true,
};
export const CASE_EVENT_TYPES = Object.keys(CASE_EVENT_TYPE_SET) as CaseEventType[];
