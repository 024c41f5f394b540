import type { CaseEventType } from '@aftersales/domain';

/** Who reads a timeline, which decides which steps it shows and how much of each. */
export type TimelineAudience = 'buyer' | 'merchant' | 'staff';

/**
 * Each step in words. Buyers see only the steps marked `buyer` (the others
 * are internal: deadlines, retries, notes, who holds the case); merchants
 * see all but the staff's own (notes, claims, assignments).
 */
const STEPS: Record<CaseEventType, { label: string; buyer?: true; staffOnly?: true }> = {
  ReturnRequested: { label: 'Request submitted', buyer: true },
  RequestAbandoned: { label: 'Request abandoned before it was recorded' },
  AutoReviewApproved: { label: 'Approved automatically', buyer: true },
  MerchantAgreed: { label: 'Seller agreed', buyer: true },
  MerchantRejected: { label: 'Seller declined', buyer: true },
  MerchantCounterOffered: { label: 'Seller made an offer', buyer: true },
  OfferAccepted: { label: 'Offer accepted', buyer: true },
  OfferDeclined: { label: 'Offer declined', buyer: true },
  OfferLapsed: { label: 'Offer expired', buyer: true },
  CaseAmended: { label: 'Request amended', buyer: true },
  CaseWithdrawn: { label: 'Request withdrawn', buyer: true },
  CaseUrged: { label: 'Reminder sent', buyer: true },
  DeadlineSet: { label: 'Deadline set' },
  PickupScheduled: { label: 'Pickup booked', buyer: true },
  ReturnShipped: { label: 'Return shipped', buyer: true },
  ReturnCollected: { label: 'Return collected by the courier', buyer: true },
  ReturnDelivered: { label: 'Return delivered to the seller', buyer: true },
  ReturnReceived: { label: 'Seller received the return', buyer: true },
  ReturnInspectionFailed: { label: 'Return failed inspection' },
  ExpressRefundGranted: { label: 'Express refund granted', buyer: true },
  RefundIssued: { label: 'Refund sent to the payment centre', buyer: true },
  RefundSettled: { label: 'Money returned', buyer: true },
  RefundFailed: { label: 'Refund attempt failed' },
  RefundRetried: { label: 'Refund sent again by staff' },
  ShippingInsuranceClaimed: { label: 'Return shipping fee claimed', buyer: true },
  ShippingInsurancePaid: { label: 'Return shipping fee paid', buyer: true },
  ReplacementShipped: { label: 'Item shipped to the buyer', buyer: true },
  ReplacementDelivered: { label: 'Item delivered to the buyer', buyer: true },
  RepairDeclaredUnrepairable: { label: 'Item cannot be repaired; refund follows', buyer: true },
  CaseEscalated: { label: 'Platform is reviewing', buyer: true },
  ArbitrationRuled: { label: 'Platform ruled', buyer: true },
  CaseClaimed: { label: 'Claimed by an agent', staffOnly: true },
  CaseReleased: { label: 'Released by the agent', staffOnly: true },
  CaseAssigned: { label: 'Assigned to an agent', staffOnly: true },
  CaseTransferred: { label: 'Transferred to another agent', staffOnly: true },
  CaseNoteAdded: { label: 'Note added', staffOnly: true },
  CompensationGranted: { label: 'Compensation granted', buyer: true },
  SatisfactionRated: { label: 'Service rated', buyer: true },
  CaseCompleted: { label: 'Done', buyer: true },
  CaseClosed: { label: 'Closed', buyer: true },
};

export function timelineAudience(role: string): TimelineAudience {
  if (role === 'buyer') return 'buyer';
  if (role === 'merchant') return 'merchant';
  return 'staff';
}

/** Whether the audience sees a step of this type at all. */
export function showsStep(audience: TimelineAudience, type: string): boolean {
  const step = STEPS[type as CaseEventType];
  if (!step) return audience === 'staff';
  if (audience === 'buyer') return step.buyer === true;
  if (audience === 'merchant') return step.staffOnly !== true;
  return true;
}

/** The step's words; a refused inspection or a ruling says which way it went. */
export function stepLabel(type: string, data: Record<string, unknown>): string {
  if (type === 'ReturnReceived' && data.inspection === 'failed') return 'Seller reported a problem with the return';
  if (type === 'MerchantAgreed' && data.auto === true) return 'Approved: the seller did not answer in time';
  if (type === 'ArbitrationRuled') return data.ruling === 'buyer' ? 'Platform ruled for the buyer' : 'Platform ruled for the seller';
  if (type === 'RefundIssued' && data.purpose === 'compensation') return 'Compensation sent to the payment centre';
  return STEPS[type as CaseEventType]?.label ?? type;
}
