import { evolveCase, type AfterSalesCase, type CaseEventType, type CaseState, type RecordedCaseEvent } from '@aftersales/domain';
import type { StoredEvent } from '@aftersales/event-store';

/** Every event a case stream holds (DOMAIN.md); the type check below fails when the domain adds one. */
export const CASE_EVENT_TYPES = [
  'ReturnRequested',
  'RequestAbandoned',
  'AutoReviewApproved',
  'MerchantAgreed',
  'MerchantRejected',
  'MerchantCounterOffered',
  'OfferAccepted',
  'OfferDeclined',
  'OfferLapsed',
  'CaseAmended',
  'CaseWithdrawn',
  'CaseUrged',
  'DeadlineSet',
  'PickupScheduled',
  'ReturnShipped',
  'ReturnCollected',
  'ReturnDelivered',
  'ReturnReceived',
  'ReturnInspectionFailed',
  'ExpressRefundGranted',
  'RefundIssued',
  'RefundSettled',
  'RefundFailed',
  'RefundRetried',
  'ShippingInsuranceClaimed',
  'ShippingInsurancePaid',
  'ReplacementShipped',
  'ReplacementDelivered',
  'RepairDeclaredUnrepairable',
  'CaseEscalated',
  'ArbitrationRuled',
  'CaseClaimed',
  'CaseReleased',
  'CaseAssigned',
  'CaseTransferred',
  'CaseNoteAdded',
  'CompensationGranted',
  'SatisfactionRated',
  'CaseCompleted',
  'CaseClosed',
] as const satisfies readonly CaseEventType[];

type Missing = Exclude<CaseEventType, (typeof CASE_EVENT_TYPES)[number]>;
const everyCaseEventListed: [Missing] extends [never] ? true : Missing = true;
void everyCaseEventListed;

const CASE_STREAM_PREFIX = 'aftersales-';

/** The case id of a case stream's event; undefined for any other stream (an order's, a buyer's). */
export function caseIdOf(event: StoredEvent): string | undefined {
  return event.streamName.startsWith(CASE_STREAM_PREFIX) ? event.streamName.slice(CASE_STREAM_PREFIX.length) : undefined;
}

/**
 * A stored event as the case fold reads it: its time is the `occurredAt`
 * the command recorded (the store's own time for events without one), the
 * same rule the streams' reads follow, so a read model folds exactly what
 * `GET /v1/cases/:caseId` folds.
 */
export function recordedCaseEvent(event: StoredEvent): RecordedCaseEvent {
  return {
    type: event.type,
    data: event.data,
    metadata: { occurredAt: occurredAt(event) },
  } as RecordedCaseEvent;
}

export const occurredAt = (event: StoredEvent): string => (event.metadata.occurredAt as string | undefined) ?? event.recordedAt.toISOString();

/** Folds one case's events in stream order onto `state`, skipping any at or below the state's revision. */
export function foldCaseEvents(state: CaseState, events: readonly StoredEvent[]): CaseState {
  let folded = state;
  for (const event of events) {
    if (folded.status !== 'none' && event.revision <= folded.revision) continue;
    folded = evolveCase(folded, recordedCaseEvent(event));
  }
  return folded;
}

/** Groups events by case, keeping each case's events in their order. */
export function byCase(events: readonly StoredEvent[]): Map<string, StoredEvent[]> {
  const cases = new Map<string, StoredEvent[]>();
  for (const event of events) {
    const caseId = caseIdOf(event);
    if (caseId === undefined) continue;
    let list = cases.get(caseId);
    if (!list) cases.set(caseId, (list = []));
    list.push(event);
  }
  return cases;
}

/**
 * The cases of the batch that may have a stored row: those whose request
 * (revision 0) is not in the batch. Events come above the checkpoint, so a
 * case whose first event is among them has had nothing stored yet.
 */
export function knownCaseIds(events: readonly StoredEvent[]): string[] {
  const seen = new Map<string, boolean>();
  for (const event of events) {
    const caseId = caseIdOf(event);
    if (caseId === undefined) continue;
    if (event.revision === 0) seen.set(caseId, false);
    else if (!seen.has(caseId)) seen.set(caseId, true);
  }
  return [...seen].filter(([, known]) => known).map(([caseId]) => caseId);
}

/** The running deadline that falls first, if any. */
export function nextDeadline(c: AfterSalesCase): { name: string; at: string } | undefined {
  let next: { name: string; at: string } | undefined;
  for (const [name, at] of Object.entries(c.deadlines)) {
    if (at !== undefined && (next === undefined || at < next.at)) next = { name, at };
  }
  return next;
}
