import { caseStream, evolveCase, initialCaseState, type CaseState, type RecordedCaseEvent } from '@aftersales/domain';
import type { EventStore, StoredEvent } from '@aftersales/event-store';
import { pendingWork, type PendingWork } from './pending-work';
import type { WorkChanges, WorkStore } from './work-store';

const CASE_PREFIX = caseStream('');
export const CASE_WORK_CHECKPOINT = 'case-work';

/** Events that never change what a case owes, passed over unread. */
const NOT_CASE_EVENTS = new Set(['RequestAbandoned']);

const asRecorded = (event: StoredEvent): RecordedCaseEvent =>
  ({
    type: event.type,
    data: event.data,
    metadata: { occurredAt: (event.metadata.occurredAt as string | undefined) ?? event.recordedAt.toISOString() },
  }) as RecordedCaseEvent;

function fold(state: CaseState, events: readonly StoredEvent[]): CaseState {
  let next = state;
  for (const event of events) {
    if (NOT_CASE_EVENTS.has(event.type)) continue;
    // A stream that did not open with ReturnRequested is not a case this reactor can fold.
    if (next.status === 'none' && event.type !== 'ReturnRequested') continue;
    next = evolveCase(next, asRecorded(event));
  }
  return next;
}

/**
 * Turns one batch of the log into work changes: folds each case's new events
 * onto its stored state (or onto its stream read from the store, for a case
 * whose state was dropped), and compares what it owed before with what it
 * owes after. Everything is re-derived from state (`pendingWork`), so a
 * deadline that a later status ended, a refund that settled, disappear by
 * themselves.
 */
export class CaseWorkPlanner {
  constructor(
    private readonly store: EventStore,
    private readonly work: WorkStore,
  ) {}

  /**
   * Stores the batch's changes with the checkpoint; returns what was added
   * and removed (undefined: already applied elsewhere). `committed` is called
   * with the changes in the same tick as the commit, before anything else
   * can read the table (the reactor marks the work it is about to enqueue).
   */
  async apply(events: readonly StoredEvent[], position: number, committed?: (changes: WorkChanges) => void): Promise<WorkChanges | undefined> {
    const byCase = new Map<string, StoredEvent[]>();
    for (const event of events) {
      if (!event.streamName.startsWith(CASE_PREFIX)) continue;
      const caseId = event.streamName.slice(CASE_PREFIX.length);
      const list = byCase.get(caseId);
      if (list) list.push(event);
      else byCase.set(caseId, [event]);
    }
    // Cases with no stored state are folded from their stream up to the batch (read now: the transaction below is synchronous).
    const stored = this.work.caseStates([...byCase.keys()]);
    const bases = new Map<string, CaseState>();
    for (const [caseId, caseEvents] of byCase) {
      if (stored.has(caseId)) continue;
      const first = caseEvents[0].revision;
      const before = first === 0 ? [] : await this.store.readStream(caseEvents[0].streamName, { maxCount: first });
      bases.set(caseId, fold(initialCaseState, before));
    }
    const changes = this.work.apply(CASE_WORK_CHECKPOINT, position, (checkpoint) => {
      const changes: WorkChanges = { cases: new Map(), added: [], removed: [] };
      const current = this.work.caseStates([...byCase.keys()]);
      for (const [caseId, caseEvents] of byCase) {
        const newer = caseEvents.filter((e) => e.position > checkpoint);
        if (newer.length === 0) continue;
        const snapshot = current.get(caseId);
        // Without a snapshot the base stops before the batch: fold what another process already applied, then the rest.
        const before = snapshot !== undefined ? (JSON.parse(snapshot) as CaseState) : fold(bases.get(caseId) ?? initialCaseState, caseEvents.filter((e) => e.position <= checkpoint));
        const after = fold(before, newer);
        diff(pendingWork(before), pendingWork(after), changes);
        const owes = pendingWork(after).length > 0;
        if (owes) changes.cases.set(caseId, JSON.stringify(after));
        else if (snapshot !== undefined) changes.cases.set(caseId, null);
      }
      return changes;
    });
    if (changes) committed?.(changes);
    return changes;
  }
}

function diff(before: PendingWork[], after: PendingWork[], changes: WorkChanges): void {
  const kept = new Set(after.map((w) => w.key));
  const had = new Set(before.map((w) => w.key));
  for (const work of before) if (!kept.has(work.key)) changes.removed.push(work.key);
  for (const work of after) if (!had.has(work.key)) changes.added.push(work);
}
