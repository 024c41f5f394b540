import type { CaseEventType } from '@aftersales/domain';

/**
 * The facts of outbound webhooks (API.md "Outbound"), on one stream per
 * subscription, `webhook-<webhookId>`. They are part of the history like
 * any other event: who subscribed what, when, who cancelled it, who replayed
 * a dead letter. `WebhookSubscribed` carries the secret because deliveries
 * are signed with it; nothing that answers a request or writes a log line
 * may pass it on.
 */
export const WEBHOOK_EVENT_TYPES = {
  subscribed: 'WebhookSubscribed',
  cancelled: 'WebhookCancelled',
  replayed: 'WebhookDeliveryReplayed',
} as const;

export const WEBHOOK_STREAM_PREFIX = 'webhook-';
export const webhookStream = (webhookId: string): string => `${WEBHOOK_STREAM_PREFIX}${webhookId}`;

export interface WebhookSubscribedData {
  webhookId: string;
  url: string;
  /** Case event types the subscriber gets. */
  events: string[];
  /** Shared secret of the X-Signature HMAC. Never returned, never logged. */
  secret: string;
}

export interface WebhookCancelledData {
  webhookId: string;
}

export interface WebhookDeliveryReplayedData {
  webhookId: string;
  deliveryId: string;
}

// A Record over the domain's union: adding a case event type to the domain
// without deciding here whether subscribers may have it fails to compile.
const SUBSCRIBABLE: Record<CaseEventType, boolean> = {
  ReturnRequested: true,
  // A fence the repair pass writes on a case id that never opened: no case to tell anyone about.
  RequestAbandoned: false,
  AutoReviewApproved: true,
  MerchantAgreed: true,
  MerchantRejected: true,
  MerchantCounterOffered: true,
  OfferAccepted: true,
  OfferDeclined: true,
  OfferLapsed: true,
  CaseAmended: true,
  CaseWithdrawn: true,
  CaseUrged: true,
  DeadlineSet: true,
  PickupScheduled: true,
  ReturnShipped: true,
  ReturnCollected: true,
  ReturnDelivered: true,
  ReturnReceived: true,
  ReturnInspectionFailed: true,
  ExpressRefundGranted: true,
  RefundIssued: true,
  RefundSettled: true,
  RefundFailed: true,
  RefundRetried: true,
  ShippingInsuranceClaimed: true,
  ShippingInsurancePaid: true,
  ReplacementShipped: true,
  ReplacementDelivered: true,
  RepairDeclaredUnrepairable: true,
  CaseEscalated: true,
  ArbitrationRuled: true,
  CaseClaimed: true,
  CaseReleased: true,
  CaseAssigned: true,
  CaseTransferred: true,
  CaseNoteAdded: true,
  CompensationGranted: true,
  SatisfactionRated: true,
  CaseCompleted: true,
  CaseClosed: true,
};

/** The case event types a webhook may subscribe to (API.md "Events", case stream). */
export const SUBSCRIBABLE_EVENT_TYPES: readonly string[] = Object.entries(SUBSCRIBABLE)
  .filter(([, allowed]) => allowed)
  .map(([type]) => type);

const SUBSCRIBABLE_SET = new Set(SUBSCRIBABLE_EVENT_TYPES);
export const isSubscribable = (type: string): boolean => SUBSCRIBABLE_SET.has(type);

/** What a subscriber receives: the JSON body of one delivery, signed as sent. */
export interface WebhookBody {
  eventId: string;
  type: string;
  caseId: string;
  /** Global position of the event in the log: increasing along a case. */
  position: number;
  occurredAt: string;
  data: unknown;
}

/**
 * One delivery is one event for one subscription, named by both, so the
 * reactor running a batch twice names the same delivery. No `:` (a BullMQ
 * job id is made from it).
 */
export const deliveryIdOf = (webhookId: string, position: number): string => `${webhookId}-${position}`;
