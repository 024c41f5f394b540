import { OPEN_STATUSES, CASE_STATUSES, type ActorRole, type CaseStatus } from '../kinds';
import type { DeadlineName } from '../policy';
import type { CaseCommandType } from './commands';
import type { CaseEventType } from './events';

/**
 * DOMAIN.md's transition table as data. decide, allowedActions and the state
 * diagram all read these rows, so the rules live in one place. Entering a
 * status also appends DeadlineSet / CaseCompleted / CaseClosed (not repeated
 * in `events`).
 */

export type FromStatuses = readonly CaseStatus[] | 'none' | 'any-open' | 'any';

/** Conditions on the case (not on the command's values) that allowedActions checks. */
export type GuardName =
  | 'moneyKind'
  | 'noRefundIssued'
  | 'urgeWaitPassed'
  | 'amendmentsLeft'
  | 'pickupRequested'
  | 'notYetCollected'
  | 'unheld'
  | 'held'
  | 'heldByCallerOrAdmin'
  | 'agentHoldsOrPool'
  | 'notWithdrawn'
  | 'notRated'
  | 'refundOutstanding'
  | 'refundGivenUp'
  | 'insuranceClaimPending';

export type Next = CaseStatus | 'unchanged';

export interface TransitionRow {
  from: FromStatuses;
  actors: readonly ActorRole[];
  action: CaseCommandType;
  /** Distinguishes rows sharing an action (inspection result, ruling side). */
  variant?: string;
  /** For `deadline-passed` rows: which deadline. */
  deadline?: DeadlineName;
  guards: readonly GuardName[];
  condition: string;
  next: readonly Next[];
  events: readonly CaseEventType[];
}

// Money that falls due with nothing left to pay (the cap or the order's refundable
// already used up) completes the case in the same append.
const APPROVED: readonly Next[] = ['refunding', 'awaiting_return', 'awaiting_replacement', 'completed'];

export const TRANSITIONS: readonly TransitionRow[] = [
  {
    from: 'none', actors: ['buyer', 'agent'], action: 'request', guards: [],
    condition: 'order visible; lines free and left; amount ≤ refundable; kind and window allowed',
    next: ['pending_merchant', ...APPROVED], events: ['ReturnRequested', 'AutoReviewApproved'],
  },
  {
    from: ['pending_merchant'], actors: ['merchant', 'agent'], action: 'approve', guards: ['agentHoldsOrPool'],
    condition: 'agent within authority, holding the case or taking it from the pool', next: APPROVED, events: ['MerchantAgreed', 'RefundIssued'],
  },
  {
    from: ['pending_merchant'], actors: ['system'], action: 'deadline-passed', deadline: 'merchantResponse', variant: 'auto-approve', guards: [],
    condition: 'merchantResponse passed', next: APPROVED, events: ['MerchantAgreed', 'RefundIssued'],
  },
  {
    from: ['pending_merchant'], actors: ['merchant'], action: 'reject', guards: [],
    condition: 'a reason', next: ['rejected'], events: ['MerchantRejected'],
  },
  {
    from: ['pending_merchant'], actors: ['merchant'], action: 'counter-offer', guards: ['moneyKind'],
    condition: 'money kinds; 0 < amount < requested', next: ['negotiating'], events: ['MerchantCounterOffered'],
  },
  {
    from: ['pending_merchant', 'rejected', 'negotiating', 'awaiting_return'], actors: ['buyer'], action: 'withdraw', guards: ['noRefundIssued'],
    condition: 'no refund issued yet', next: ['closed'], events: ['CaseWithdrawn'],
  },
  {
    from: ['pending_merchant', 'return_in_transit', 'awaiting_replacement', 'in_repair', 'escalated'], actors: ['buyer'], action: 'urge', guards: ['urgeWaitPassed'],
    condition: '≥ urgeMinWait in the status, ≥ urgeCooldown since the last urge', next: ['unchanged'], events: ['CaseUrged'],
  },
  {
    from: ['negotiating'], actors: ['buyer'], action: 'accept-offer', guards: [],
    condition: 'nothing left to pay: completed', next: ['refunding', 'completed'], events: ['OfferAccepted', 'RefundIssued'],
  },
  {
    from: ['negotiating'], actors: ['buyer'], action: 'decline-offer', guards: [],
    condition: '—', next: ['rejected'], events: ['OfferDeclined'],
  },
  {
    from: ['negotiating'], actors: ['system'], action: 'deadline-passed', deadline: 'buyerOfferResponse', variant: 'lapse', guards: [],
    condition: 'buyerOfferResponse passed', next: ['closed'], events: ['OfferLapsed'],
  },
  {
    from: ['rejected'], actors: ['buyer'], action: 'amend', guards: ['amendmentsLeft'],
    condition: 'amendments so far < maxAmendments', next: ['pending_merchant'], events: ['CaseAmended'],
  },
  {
    from: ['rejected'], actors: ['buyer'], action: 'escalate', guards: [],
    condition: '—', next: ['escalated'], events: ['CaseEscalated'],
  },
  {
    from: ['rejected'], actors: ['system'], action: 'deadline-passed', deadline: 'buyerAppeal', variant: 'close', guards: [],
    condition: 'buyerAppeal passed', next: ['closed'], events: [],
  },
  {
    from: ['awaiting_return'], actors: ['system'], action: 'schedule-pickup', guards: ['pickupRequested'],
    condition: 'approved with pickup: true; logistics answered', next: ['unchanged'], events: ['PickupScheduled'],
  },
  {
    from: ['awaiting_return'], actors: ['buyer'], action: 'ship-return', guards: [],
    condition: 'carrier and tracking number', next: ['return_in_transit'], events: ['ReturnShipped', 'ShippingInsuranceClaimed'],
  },
  {
    from: ['awaiting_return', 'return_in_transit'], actors: ['integration'], action: 'return-collected', guards: ['notYetCollected'],
    condition: "the return's tracking number; express refund if eligible", next: ['return_in_transit'],
    events: ['ReturnCollected', 'ShippingInsuranceClaimed', 'ExpressRefundGranted', 'RefundIssued'],
  },
  {
    from: ['awaiting_return'], actors: ['system'], action: 'deadline-passed', deadline: 'buyerShipBack', variant: 'close', guards: [],
    condition: 'buyerShipBack passed', next: ['closed'], events: [],
  },
  {
    from: ['return_in_transit'], actors: ['integration'], action: 'return-delivered', guards: [],
    condition: "the return's tracking number; merchantReceipt starts", next: ['unchanged'], events: ['ReturnDelivered'],
  },
  {
    from: ['return_in_transit'], actors: ['system'], action: 'deadline-passed', deadline: 'returnTransit', variant: 'assume delivered', guards: [],
    condition: 'no delivery scan returnTransit after the parcel left', next: ['unchanged'], events: ['ReturnDelivered'],
  },
  {
    from: ['return_in_transit'], actors: ['merchant'], action: 'confirm-receipt', variant: 'passed', guards: [],
    condition: '—', next: ['refunding', 'completed', 'awaiting_replacement', 'in_repair'], events: ['ReturnReceived', 'RefundIssued'],
  },
  {
    from: ['return_in_transit'], actors: ['merchant'], action: 'confirm-receipt', variant: 'failed', guards: [],
    condition: 'evidence given', next: ['escalated'], events: ['ReturnReceived', 'ReturnInspectionFailed', 'CaseEscalated'],
  },
  {
    from: ['return_in_transit'], actors: ['system'], action: 'deadline-passed', deadline: 'merchantReceipt', variant: 'auto-confirm', guards: [],
    condition: 'merchantReceipt passed', next: ['refunding', 'completed', 'awaiting_replacement', 'in_repair'], events: ['ReturnReceived', 'RefundIssued'],
  },
  {
    from: ['refunding'], actors: ['integration'], action: 'refund-settled', variant: 'last refund', guards: ['refundOutstanding'],
    condition: 'every refund now settled', next: ['completed'], events: ['RefundSettled'],
  },
  {
    from: 'any', actors: ['integration'], action: 'refund-settled', guards: ['refundOutstanding'],
    condition: 'refund outstanding', next: ['unchanged'], events: ['RefundSettled'],
  },
  {
    from: 'any', actors: ['integration'], action: 'refund-failed', guards: ['refundOutstanding'],
    condition: 'refund outstanding; after the last attempt, to the agent pool', next: ['unchanged'], events: ['RefundFailed'],
  },
  {
    from: 'any', actors: ['system'], action: 'shipping-insurance-paid', guards: ['insuranceClaimPending'],
    condition: 'claim not yet paid', next: ['unchanged'], events: ['ShippingInsurancePaid'],
  },
  {
    from: ['awaiting_replacement', 'in_repair'], actors: ['merchant'], action: 'ship-replacement', guards: [],
    condition: 'carrier and tracking number', next: ['replacement_in_transit'], events: ['ReplacementShipped'],
  },
  {
    from: ['in_repair'], actors: ['merchant'], action: 'declare-unrepairable', guards: [],
    condition: 'nothing left to pay: completed', next: ['refunding', 'completed'], events: ['RepairDeclaredUnrepairable', 'RefundIssued'],
  },
  {
    from: ['awaiting_replacement', 'in_repair'], actors: ['system'], action: 'deadline-passed', deadline: 'merchantShipment', variant: 'escalate', guards: [],
    condition: 'merchantShipment passed', next: ['escalated'], events: ['CaseEscalated'],
  },
  {
    from: ['replacement_in_transit'], actors: ['integration'], action: 'replacement-delivered', guards: [],
    condition: '—', next: ['unchanged'], events: ['ReplacementDelivered'],
  },
  {
    from: ['replacement_in_transit'], actors: ['buyer'], action: 'confirm-delivery', guards: [],
    condition: '—', next: ['completed'], events: [],
  },
  {
    from: ['replacement_in_transit'], actors: ['system'], action: 'deadline-passed', deadline: 'replacementAutoComplete', variant: 'auto-complete', guards: [],
    condition: 'replacementAutoComplete passed', next: ['completed'], events: [],
  },
  {
    from: ['escalated'], actors: ['arbitrator'], action: 'rule', variant: 'for buyer', guards: [],
    condition: 'refundAmount ≤ refundable; none only for exchange, repair, reship', next: ['refunding', 'awaiting_return', 'awaiting_replacement', 'completed'],
    events: ['ArbitrationRuled', 'RefundIssued'],
  },
  {
    from: ['escalated'], actors: ['arbitrator'], action: 'rule', variant: 'for merchant', guards: [],
    condition: 'a note', next: ['closed'], events: ['ArbitrationRuled'],
  },
  {
    from: ['escalated'], actors: ['system'], action: 'deadline-passed', deadline: 'platformRulingSla', variant: 'ruling overdue', guards: [],
    condition: 'platformRulingSla passed', next: ['unchanged'], events: ['CaseUrged'],
  },
  {
    from: 'any-open', actors: ['agent'], action: 'claim', guards: ['unheld'],
    condition: "unheld, of the agent's business line", next: ['unchanged'], events: ['CaseClaimed'],
  },
  {
    from: 'any-open', actors: ['agent', 'admin'], action: 'release', guards: ['held', 'heldByCallerOrAdmin'],
    condition: 'held', next: ['unchanged'], events: ['CaseReleased'],
  },
  {
    from: 'any-open', actors: ['admin'], action: 'assign', guards: [],
    condition: 'an agent id', next: ['unchanged'], events: ['CaseAssigned'],
  },
  {
    from: 'any-open', actors: ['admin'], action: 'transfer', guards: ['held'],
    condition: 'an agent id; held', next: ['unchanged'], events: ['CaseTransferred'],
  },
  {
    from: 'any-open', actors: ['agent', 'arbitrator', 'admin'], action: 'note', guards: ['agentHoldsOrPool'],
    condition: 'agents: held or in the pool', next: ['unchanged'], events: ['CaseNoteAdded'],
  },
  {
    from: 'any-open', actors: ['agent'], action: 'compensate', guards: ['agentHoldsOrPool'],
    condition: "held or in the pool; amount ≤ the agent's authority (else 403); with earlier payouts ≤ compensationCap", next: ['unchanged'],
    events: ['CompensationGranted', 'RefundIssued'],
  },
  {
    from: 'any', actors: ['agent', 'admin'], action: 'retry-refund', guards: ['refundGivenUp', 'agentHoldsOrPool'],
    condition: 'the refund is past its last attempt and unsettled; agents: held or in the pool; ended cases too',
    next: ['unchanged'], events: ['RefundRetried'],
  },
  {
    from: ['completed', 'closed'], actors: ['buyer'], action: 'rate', guards: ['notWithdrawn', 'notRated'],
    condition: 'not rated yet; score 1–5, NPS 0–10', next: ['unchanged'], events: ['SatisfactionRated'],
  },
];

/** The statuses a row starts from ('none' for the first event of a case). */
export function fromStatuses(row: TransitionRow): readonly CaseStatus[] | 'none' {
  if (row.from === 'none') return 'none';
  if (row.from === 'any-open') return OPEN_STATUSES;
  if (row.from === 'any') return CASE_STATUSES;
  return row.from;
}

export function rowStartsFrom(row: TransitionRow, status: CaseStatus | 'none'): boolean {
  const from = fromStatuses(row);
  return from === 'none' ? status === 'none' : status !== 'none' && from.includes(status);
}

/** Every role that performs an action in some row; any other role gets 403. */
export function rolesFor(action: CaseCommandType): readonly ActorRole[] {
  return [...new Set(TRANSITIONS.filter((r) => r.action === action).flatMap((r) => r.actors))];
}

export function rowsFor(action: CaseCommandType, deadline?: DeadlineName): readonly TransitionRow[] {
  return TRANSITIONS.filter((r) => r.action === action && (deadline === undefined || r.deadline === deadline));
}
