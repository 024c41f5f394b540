import type {
  CaseKind,
  CaseStatus,
  ClosedReason,
  Department,
  InspectionResult,
  Reason,
  RefundPurpose,
  RefundStatus,
  Responsible,
  Ruling,
} from '../kinds';
import type { DeadlineName } from '../policy';
import type { AutoReviewRule, CaseLine } from './events';

export interface Pickup {
  carrier: string;
  trackingNumber: string;
  windowStart: string;
  windowEnd: string;
}

export interface Parcel {
  carrier: string;
  trackingNumber: string;
  shippedAt?: string;
  collectedAt?: string;
  deliveredAt?: string;
  /** Delivery taken as done after `returnTransit` without a scan. */
  assumedDelivered?: boolean;
}

export interface CaseRefund {
  refundId: string;
  amount: number;
  purpose: RefundPurpose;
  express: boolean;
  status: RefundStatus;
  /** Failed attempts reported so far. */
  attempts: number;
  providerRef?: string;
  settledAt?: string;
  lastError?: string;
  /** When each failed attempt happened, as the payment centre said: a repeated report is known by it. */
  failedAt?: string[];
  /**
   * Failed attempts before the current series: a person's retry (RefundRetried)
   * starts a new series of attempts while attempt numbers keep counting up,
   * so a late report of an earlier attempt is still known as a repeat.
   */
  seriesStart?: number;
  /** The wait the payment centre asked for on the last failed attempt (Retry-After). */
  retryAfterMs?: number;
}

export interface InsuranceClaim {
  claimId: string;
  amount: number;
  paid: boolean;
}

/** Why a case waits for a person in the agent pool beyond its status. */
export type AgentNeed = 'refund_failed';

export interface AfterSalesCase {
  status: CaseStatus;
  /**
   * Revision of the case stream's last event folded (ReturnRequested is 0).
   * Refund ids are drawn from it: a stream revision is taken once, for ever.
   */
  revision: number;
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
  evidence: string[];
  closedReason?: ClosedReason;
  requestedAmount: number;
  /** Approved, accepted or ruled amount. */
  agreedAmount?: number;
  /** The merchant's standing counter-offer. */
  offeredAmount?: number;
  /** Sum of settled money movements to the buyer (refunds and payouts): what the buyer actually got back. */
  refunded: number;
  /** Sum of settled compensation payouts (part of `refunded`). */
  compensated: number;
  currency: string;
  lines: CaseLine[];
  /** Running deadlines by DOMAIN.md name, due times in ISO-8601. */
  deadlines: Partial<Record<DeadlineName, string>>;
  /** The buyer asked for a door pickup. */
  pickupRequested: boolean;
  pickup?: Pickup;
  returnParcel?: Parcel;
  replacementParcel?: Parcel;
  refunds: CaseRefund[];
  assignee?: string;
  priority: number;
  requestedAt: string;
  updatedAt: string;
  /** When the current status began (urge waits count from here). */
  statusSince: string;
  lastUrgedAt?: string;
  amendments: number;
  rated: boolean;
  rating?: { score: number; nps?: number; comment?: string };
  /** Compensation payouts issued (RefundIssued with purpose compensation), against compensationCap. */
  payouts: number;
  /** What express refunds already covered, so receipt never pays it twice. */
  expressCovered: number;
  insuranceClaim?: InsuranceClaim;
  needsAgent?: AgentNeed;
  autoReviewRule?: AutoReviewRule;
  inspection?: InspectionResult;
  ruling?: { ruling: Ruling; refundAmount?: number; returnRequired: boolean };
  escalationReason?: string;
}

export type CaseState = { status: 'none' } | AfterSalesCase;

export const initialCaseState: CaseState = { status: 'none' };

export const isOpened = (state: CaseState): state is AfterSalesCase => state.status !== 'none';
