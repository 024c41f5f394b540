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

/** Thrown inside the transaction when another process moved the checkpoint and a case's stream was not read: the batch is tried again. */
export class PlannerOvertakenError extends Error {}

/**
 * Turns one batch of the log into work changes: folds each case's new events
 * onto its state before the batch, and compares what it owed before with
 * what it owes after. Everything is re-derived from state (`pendingWork`),
 * so a deadline that a later status ended, a refund that settled, disappear
 * by themselves.
 *
 * The state before the batch is the planner's memory of the case (every
 * case it folded, as of the checkpoint it last stored) or else the case's
 * stream up to the batch, read from the store. The memory is exact only
 * while the stored checkpoint is still the one this planner stored: another
 * process's batch since makes it stale, and it is dropped whole. Nothing of
 * a case's state is written: the pending work and the checkpoint are the
 * durable part, and the log is where a state comes from after a restart:
 * a stream is read once per case and run, where a stored state was written
 * as JSON for every case of every batch.
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
    if (this.work.checkpoint(CASE_WORK_CHECKPOINT) !== this.rememberedAt) this.forget();
    // Cases not remembered are folded from their stream up to the batch (read now: the transaction below is synchronous).
    const bases = new Map<string, CaseState>();
    for (const [caseId, caseEvents] of byCase) {
      if (this.remembered.has(caseId)) continue;
      const first = caseEvents[0].revision;
      const before = first === 0 ? [] : await this.store.readStream(caseEvents[0].streamName, { maxCount: first });
      bases.set(caseId, fold(initialCaseState, before));
    }
    const folded = new Map<string, CaseState>();
    let stale = false;
    let changes: WorkChanges | undefined;
    try {
      changes = this.work.apply(CASE_WORK_CHECKPOINT, position, (checkpoint) => {
        const changes: WorkChanges = { added: [], removed: [] };
        stale = checkpoint !== this.rememberedAt;
        for (const [caseId, caseEvents] of byCase) {
          const newer = caseEvents.filter((e) => e.position > checkpoint);
          if (newer.length === 0) continue;
          const before = this.before(caseId, bases, caseEvents, checkpoint, stale);
          const after = fold(before, newer);
          diff(pendingWork(before), pendingWork(after), changes);
          folded.set(caseId, after);
        }
        return changes;
      });
    } catch (error) {
      this.forget();
      throw error;
    }
    if (!changes) {
      // Another process applied this batch: its states are not in memory.
      this.forget();
      return undefined;
    }
    if (stale) this.forget();
    this.remember(folded, position);
    committed?.(changes);
    return changes;
  }

  /** A case's state before the batch's events after `checkpoint`: remembered, or from its stream (read before the transaction). */
  private before(caseId: string, bases: ReadonlyMap<string, CaseState>, caseEvents: readonly StoredEvent[], checkpoint: number, stale: boolean): CaseState {
    const base = bases.get(caseId);
    // The stream stops before the batch: fold what another process already applied of it, then the rest.
    if (base !== undefined) return fold(base, caseEvents.filter((e) => e.position <= checkpoint));
    const remembered = stale ? undefined : this.remembered.get(caseId);
    // Taken for remembered, but another process stored a batch in the meantime: try the batch again, reading the stream.
    if (remembered === undefined) throw new PlannerOvertakenError(`another process applied the case work log up to ${checkpoint}`);
    return remembered;
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
