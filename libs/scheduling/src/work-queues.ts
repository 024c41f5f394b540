import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES, type PendingWork, type QueueName } from './pending-work';
import type { StoredWork, WorkStore } from './work-store';

/** Per queue: how often a failing job is tried and how long finished jobs stay to be looked at (and to de-duplicate). */
export const JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  // A deadline whose command fails (store unavailable, a lost race) is tried again soon; its effect happens once (decide).
  deadlines: { attempts: 10, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 3600, count: 50_000 }, removeOnFail: { age: 7 * 86400 } },
  pickups: { attempts: 8, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: { age: 86400 }, removeOnFail: { age: 7 * 86400 } },
  // Retries here are for a payment centre that could not be reached; one that answered "failed" is recorded
  // (RefundFailed) and the next attempt is a job of its own, with its own key.
  refunds: { attempts: 6, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 30 * 86400 } },
  insurance: { attempts: 8, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 30 * 86400 } },
};

export const QUEUE_NAMES: readonly QueueName[] = Object.values(QUEUES);

/** How many jobs taken by this process's workers are remembered for `remove` (a burst of due deadlines, with room). */
const TAKEN_REMEMBERED = 100_000;

const PREFIXES: [string, QueueName][] = [
  ['deadline-', 'deadlines'],
  ['pickup-', 'pickups'],
  ['refund-', 'refunds'],
  ['insurance-', 'insurance'],
];

/** The queue a work key (job id) belongs to. */
export function queueOfKey(key: string): QueueName | undefined {
  return PREFIXES.find(([prefix]) => key.startsWith(prefix))?.[1];
}

export interface JobData<W extends PendingWork = PendingWork> {
  caseId: string;
  dueAt: number;
  work: W['data'];
}

/**
 * Puts pending work into BullMQ, one job per key (the job id), delayed until
 * it is due. Adding a job whose id exists is a no-op in BullMQ, so the
 * reactor and the reconciler may both add the same work, any number of
 * times, from any process.
 *
 * Only work due within the horizon gets a job (`dueSoon`): a case's next
 * deadline is usually days away, and a delayed job would hold Redis memory,
 * and cost an add, for all that time. Work further out waits in the durable
 * table until a reconciliation pass finds it inside the horizon.
 */
export class WorkQueues {
  /** Keys this process committed to the pending table and is adding now, with how many adds hold each. */
  private readonly adding = new Map<string, number>();
  /** Jobs a worker of this process took and has not failed: active or done, none waits in Redis to be taken out. */
  private readonly takenHere = new Set<string>();

  constructor(
    private readonly queues: ReadonlyMap<QueueName, Queue>,
    /** Any connection to the queues' Redis: the reconciler asks it which job keys exist. */
    private readonly redis: Redis,
    /** The clock due times are measured against (the reconciler's too, unless told). */
    readonly now: () => number = Date.now,
    /** How far ahead of its due time work gets its job (ms); unbounded unless told. */
    readonly horizonMs: number = Number.POSITIVE_INFINITY,
  ) {}

  /** The latest due time that gets a job now. */
  horizonEnd(now: number = this.now()): number {
    return now + this.horizonMs;
  }

  /** The works that get a job now; the rest are left to the pass that finds them inside the horizon. */
  dueSoon<W extends { dueAt: number }>(works: readonly W[]): W[] {
    const end = this.horizonEnd();
    return works.filter((work) => work.dueAt <= end);
  }

  queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`no queue ${name}`);
    return queue;
  }

  async add(works: ReadonlyArray<PendingWork | StoredWork>): Promise<void> {
    const byQueue = new Map<QueueName, (PendingWork | StoredWork)[]>();
    for (const work of works) {
      const list = byQueue.get(work.queue);
      if (list) list.push(work);
      else byQueue.set(work.queue, [work]);
    }
    const now = this.now();
    await Promise.all(
      [...byQueue].map(([name, list]) =>
        this.queue(name).addBulk(
          list.map((work) => ({
            name: work.queue,
            data: { caseId: work.caseId, dueAt: work.dueAt, work: work.data } satisfies JobData,
            opts: { ...JOB_OPTIONS[name], jobId: work.key, delay: Math.max(0, work.dueAt - now) },
          })),
        ),
      ),
    );
  }

  /**
   * Takes out jobs for work no longer owed (a deadline its status ended)
   * while they still wait, so Redis does not keep a 48-hour timer for a
   * merchant who answered in five minutes. A job that ran stays, for the
   * dashboard; one running finishes as a no-op (decide).
   */
  async remove(keys: readonly string[]): Promise<void> {
    // A job this process is running, or ran, is what usually ends its own work (a deadline that fired): asking Redis its state would only answer "active" or "completed".
    const asked = keys.filter((key) => !this.takenHere.delete(key));
    await Promise.all(
      asked.map(async (key) => {
        const name = queueOfKey(key);
        if (!name) return;
        const queue = this.queue(name);
        const state = await queue.getJobState(key).catch(() => 'unknown');
        if (state === 'delayed' || state === 'waiting' || state === 'prioritized') await queue.remove(key).catch(() => 0);
      }),
    );
  }

  /**
   * A worker of this process took the job of this work: until it fails, the
   * job is active or done, so a `remove` of its key need not ask Redis.
   * Bounded: past the limit the set starts again empty (a key forgotten is
   * only asked about).
   */
  taken(key: string): void {
    if (this.takenHere.size >= TAKEN_REMEMBERED) this.takenHere.clear();
    this.takenHere.add(key);
  }

  /** The job failed: it may wait in Redis again (a retry), so a `remove` asks about it as before. */
  failed(key: string): void {
    this.takenHere.delete(key);
  }

  /**
   * Marks work this process has just committed to the pending table and is
   * about to add, until the returned function is called: the reconciler of
   * this process leaves it to that add instead of counting it as lost.
   * Called in the same tick as the commit, so no pass sees the rows first.
   */
  hold(keys: readonly string[]): () => void {
    for (const key of keys) this.adding.set(key, (this.adding.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const key of keys) {
        const count = (this.adding.get(key) ?? 0) - 1;
        if (count > 0) this.adding.set(key, count);
        else this.adding.delete(key);
      }
    };
  }

  isHeld(key: string): boolean {
    return this.adding.has(key);
  }

  /**
   * A key the reconciler sets at the start of a pass that finds it missing.
   * Redis loses it with everything else (FLUSHALL, a restart without AOF), so
   * finding it gone says the pass may add every pending job without asking
   * which exist. Only set when missing, so a pass over an intact Redis
   * writes nothing. It lives beside the deadline queue's keys, under the
   * queues' prefix.
   */
  private get markerKey(): string {
    return this.queue('deadlines').toKey('work-reconciled');
  }

  async hasMarker(): Promise<boolean> {
    return (await this.redis.exists(this.markerKey)) === 1;
  }

  async setMarker(): Promise<void> {
    await this.redis.set(this.markerKey, String(this.now()));
  }

  /** Which of these works have a job in Redis (in any state: delayed, waiting, active, completed, failed). */
  async existing(works: readonly StoredWork[]): Promise<boolean[]> {
    if (works.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const work of works) pipeline.exists(this.queue(work.queue).toKey(work.key));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, count]: [Error | null, unknown]) => !error && count === 1);
  }
}

export interface ReconcileReport {
  /** Rows due within the horizon: the ones the pass walked. */
  pending: number;
  /** Rows within the horizon whose job Redis lost (or that their reactor never added). */
  recreated: number;
  /** Rows that came inside the horizon since the last pass: their first job. */
  scheduled: number;
  /** Rows due beyond the horizon: no job yet, a later pass adds it. */
  later: number;
  /** Refunds sent again because no outcome came back after `resubmitUnsettledAfterMs`. */
  resubmitted: number;
  /** Rows so young (or held by this process's reactor) that their reactor's own add is still under way: not checked this pass. */
  settling: number;
  /** Redis held none of the pending jobs (the marker gone too): every row was added without asking. */
  allLost: boolean;
}

/** Rows per page: one SQLite read, one EXISTS pipeline and one addBulk per queue each. */
const RECONCILE_PAGE = 2500;
/**
 * A row younger than this is left to the reactor that wrote it (which adds
 * its job right after the commit); a reactor that died in between leaves a
 * row the next pass finds.
 */
export const SETTLE_MS = 10_000;
/** How many of the earliest rows are asked about when the marker is gone: none of them in Redis means Redis lost everything. */
const LOSS_SAMPLE = 32;

/**
 * A refund the payment centre accepted but never reported on is sent again
 * after this long, under the same refundId (its idempotency key): a lost
 * callback, or a sandbox that restarted, must not leave the buyer waiting.
 */
export const RESUBMIT_UNSETTLED_AFTER_MS = 15 * 60_000;

interface ReconcileOptions {
  resubmitUnsettledAfterMs?: number;
  now?: () => number;
  settleMs?: number;
  pageSize?: number;
  /** The latest due time this pass covers; the queues' horizon from now unless told. */
  horizonEnd?: number;
  /**
   * The latest due time the caller's previous pass covered: a missing job due
   * after it (and beyond its reactor's horizon when written) is counted as
   * `scheduled`, not as lost. Unknown (the first pass), only the row's own
   * creation time says.
   */
  coveredUntil?: number;
}

/** A page with what Redis said about it: the rows to add and the ones whose job exists. */
interface CheckedPage {
  missing: StoredWork[];
  /** Of `missing`, the rows that only now came inside the horizon. */
  entering: number;
  present: StoredWork[];
  settling: number;
}

/**
 * Makes sure every piece of pending work due within the horizon has its job
 * (ARCHITECTURE.md rule 4): walks the durable pending table up to the
 * horizon (an index on due time) and adds any job Redis does not have:
 * work that has just come inside the horizon, and work whose job Redis lost,
 * overdue ones to run at once. Losing every Redis key therefore delays work
 * until the next pass and loses none; work further out is left alone, and a
 * later pass adds it, a period or more before it is due.
 *
 * Fast enough to finish well inside a period with tens of thousands of rows:
 * when the marker says Redis lost everything, rows are added without asking
 * which exist; otherwise the EXISTS of the next page is under way while the
 * current page's jobs are added. Pages go in due order, so overdue work is
 * back (and running) first.
 */
export async function reconcileWork(store: WorkStore, queues: WorkQueues, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const now = options.now ?? queues.now;
  const settleMs = options.settleMs ?? SETTLE_MS;
  const pageSize = options.pageSize ?? RECONCILE_PAGE;
  const horizonEnd = options.horizonEnd ?? queues.horizonEnd(now());
  const coveredUntil = options.coveredUntil ?? Number.NEGATIVE_INFINITY;
  // Work the reactor that wrote it added at once: due within that reactor's horizon when written.
  const addedByReactor = (work: StoredWork): boolean => work.dueAt <= work.createdAt + queues.horizonMs;
  // No pass or reactor has had it inside its horizon before: its job is new, not lost.
  const entering = (work: StoredWork): boolean => work.dueAt > coveredUntil && !addedByReactor(work);
  const marked = await queues.hasMarker();
  const allLost = !marked && (await noneQueued(store, queues, horizonEnd));
  // Set before the walk: a Redis that loses its keys during the walk takes the marker with them, and the next pass sees it.
  if (!marked) await queues.setMarker();
  const later = Number.isFinite(horizonEnd) ? store.pendingDueAfter(horizonEnd) : 0;
  const report: ReconcileReport = { pending: 0, recreated: 0, scheduled: 0, later, resubmitted: 0, settling: 0, allLost };

  const check = async (page: StoredWork[]): Promise<CheckedPage> => {
    if (allLost) return { missing: page, entering: page.filter(entering).length, present: [], settling: 0 };
    // A young row its reactor is adding right now is left to it; one beyond that reactor's horizon it never adds.
    const asked = page.filter((work) => !queues.isHeld(work.key) && !(now() - work.createdAt < settleMs && addedByReactor(work)));
    const exists = await queues.existing(asked);
    const missing = asked.filter((_, i) => !exists[i]);
    return { missing, entering: missing.filter(entering).length, present: asked.filter((_, i) => exists[i]), settling: page.length - asked.length };
  };

  let page = store.pending(undefined, pageSize, horizonEnd);
  let checking = check(page);
  // The previous page's add, still running in Redis while this page's is prepared and sent.
  let adding: Promise<void> = Promise.resolve();
  while (page.length > 0) {
    const last = page[page.length - 1];
    const next = page.length < pageSize ? [] : store.pending({ dueAt: last.dueAt, key: last.key }, pageSize, horizonEnd);
    const nextChecking = quiet(check(next));
    const { missing, entering: entered, present, settling } = await checking;
    const resubmitted = await unsettledRefunds(present, queues, now, options.resubmitUnsettledAfterMs ?? RESUBMIT_UNSETTLED_AFTER_MS);
    const added = quiet(missing.length + resubmitted.length > 0 ? queues.add([...missing, ...resubmitted]) : Promise.resolve());
    await adding;
    adding = added;
    report.pending += page.length;
    report.settling += settling;
    report.recreated += missing.length - entered;
    report.scheduled += entered;
    report.resubmitted += resubmitted.length;
    page = next;
    checking = nextChecking;
  }
  await adding;
  return report;
}

/** A promise awaited later: should the pass fail before that, its rejection is not reported as unhandled (the pass's own error is). */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** With the marker gone: whether Redis has none of the earliest pending jobs within the horizon (lost everything), or the marker merely was never set. */
async function noneQueued(store: WorkStore, queues: WorkQueues, horizonEnd: number): Promise<boolean> {
  const sample = store.pending(undefined, LOSS_SAMPLE, horizonEnd);
  return (await queues.existing(sample)).every((exists) => !exists);
}

/** Refunds still owed although their job finished long ago: submitted, and no outcome came back. Their jobs are taken out to be added again. */
async function unsettledRefunds(present: readonly StoredWork[], queues: WorkQueues, now: () => number, resubmitAfter: number): Promise<StoredWork[]> {
  const again: StoredWork[] = [];
  for (const work of present) {
    if (work.queue !== 'refunds') continue;
    const job = await queues.queue('refunds').getJob(work.key);
    if (!job?.finishedOn || job.failedReason || now() - job.finishedOn < resubmitAfter) continue;
    await job.remove().catch(() => undefined);
    again.push({ ...work, dueAt: now() });
  }
  return again;
}
