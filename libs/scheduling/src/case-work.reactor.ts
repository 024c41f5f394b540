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

/** How many cases' folded states a planner keeps in memory; past it, the memory starts again empty (a miss only costs a read). */
const REMEMBERED_CASES = 100_000;

/** Thrown inside the transaction when another process moved the checkpoint and a case's base was not read: the batch is tried again. */
export class PlannerOvertakenError extends Error {}

/**
 * Turns one batch of the log into work changes: folds each case's new events
 * onto its stored state (or onto its stream read from the store, for a case
 * whose state was dropped), and compares what it owed before with what it
 * owes after. Everything is re-derived from state (`pendingWork`), so a
 * deadline that a later status ended, a refund that settled, disappear by
 * themselves.
 *
 * The states this planner folded are also kept in memory, as of the
 * checkpoint it last stored: while the stored checkpoint is still that one,
 * no other process has applied a batch since, so the memory is exactly what
 * the table holds (and, for a case that owes nothing and so has no stored
 * state, exactly the fold its stream would give) and neither is read. Under
 * a burst of due deadlines that saves a read and a JSON parse per case per
 * batch. Whatever another process stores makes the memory stale, and it is
 * then dropped whole.
 */
export class CaseWorkPlanner {
  private readonly remembered = new Map<string, CaseState>();
  /** The checkpoint as this planner last stored it; `remembered` holds every case it folded, as of then. */
  private rememberedAt = -1;

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
    // Cases neither remembered nor stored are folded from their stream up to the batch (read now: the transaction below is synchronous).
    const unknown = [...byCase.keys()].filter((caseId) => !this.remembered.has(caseId));
    const stored = this.work.caseStates(unknown);
    const bases = new Map<string, CaseState>();
    for (const caseId of unknown) {
      if (stored.has(caseId)) continue;
      const caseEvents = byCase.get(caseId)!;
      const first = caseEvents[0].revision;
      const before = first === 0 ? [] : await this.store.readStream(caseEvents[0].streamName, { maxCount: first });
      bases.set(caseId, fold(initialCaseState, before));
    }
    const folded = new Map<string, CaseState>();
    let changes: WorkChanges | undefined;
    try {
      changes = this.work.apply(CASE_WORK_CHECKPOINT, position, (checkpoint) => {
        const changes: WorkChanges = { cases: new Map(), added: [], removed: [] };
        const memory = checkpoint === this.rememberedAt ? this.remembered : undefined;
        const current = this.work.caseStates(memory ? unknown : [...byCase.keys()]);
        for (const [caseId, caseEvents] of byCase) {
          const newer = caseEvents.filter((e) => e.position > checkpoint);
          if (newer.length === 0) continue;
          const snapshot = current.get(caseId);
          const remembered = memory?.get(caseId);
          const before = remembered ?? this.base(caseId, snapshot, bases, caseEvents, checkpoint);
          const after = fold(before, newer);
          const owedBefore = pendingWork(before);
          const owedAfter = pendingWork(after);
          diff(owedBefore, owedAfter, changes);
          // A case has a stored state exactly while it owes work, so a remembered one that owed work before has a row to drop.
          const hadRow = remembered ? owedBefore.length > 0 : snapshot !== undefined;
          if (owedAfter.length > 0) changes.cases.set(caseId, JSON.stringify(after));
          else if (hadRow) changes.cases.set(caseId, null);
          folded.set(caseId, after);
        }
        return changes;
      });
    } catch (error) {
      this.forget();
      throw error;
    }
    if (!changes) {
      // Another process applied this batch: what it stored is not in memory.
      this.forget();
      return undefined;
    }
    this.remember(folded, position);
    committed?.(changes);
    return changes;
  }

  /** A case's state before the batch, from the table or from its stream (read before the transaction). */
  private base(caseId: string, snapshot: string | undefined, bases: ReadonlyMap<string, CaseState>, caseEvents: readonly StoredEvent[], checkpoint: number): CaseState {
    if (snapshot !== undefined) return JSON.parse(snapshot) as CaseState;
    const base = bases.get(caseId);
    // Taken for remembered, but another process stored a batch since and this case's stream was not read: try the batch again.
    if (base === undefined && caseEvents[0].revision > 0) throw new PlannerOvertakenError(`another process applied the case work log up to ${checkpoint}`);
    // Without a snapshot the base stops before the batch: fold what another process already applied, then the rest.
    return fold(base ?? initialCaseState, caseEvents.filter((e) => e.position <= checkpoint));
  }

  private remember(folded: ReadonlyMap<string, CaseState>, position: number): void {
    if (this.remembered.size + folded.size > REMEMBERED_CASES) this.remembered.clear();
    for (const [caseId, state] of folded) this.remembered.set(caseId, state);
    this.rememberedAt = position;
  }

  private forget(): void {
    this.remembered.clear();
    this.rememberedAt = -1;
  }
}

function diff(before: PendingWork[], after: PendingWork[], changes: WorkChanges): void {
  const kept = new Set(after.map((w) => w.key));
  const had = new Set(before.map((w) => w.key));
  for (const work of before) if (!kept.has(work.key)) changes.removed.push(work.key);
  for (const work of after) if (!had.has(work.key)) changes.added.push(work);
}
