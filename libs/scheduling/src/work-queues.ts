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
 */
export class WorkQueues {
  constructor(
    private readonly queues: ReadonlyMap<QueueName, Queue>,
    /** Any connection to the queues' Redis: the reconciler asks it which job keys exist. */
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {}

  queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`no queue ${name}`);
    return queue;
  }

  async add(works: ReadonlyArray<PendingWork | StoredWork>): Promise<void> {
    const byQueue = new Map<QueueName, (PendingWork | StoredWork)[]>();
    for (const work of works) byQueue.set(work.queue, [...(byQueue.get(work.queue) ?? []), work]);
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
    await Promise.all(
      keys.map(async (key) => {
        const name = queueOfKey(key);
        if (!name) return;
        const queue = this.queue(name);
        const state = await queue.getJobState(key).catch(() => 'unknown');
        if (state === 'delayed' || state === 'waiting' || state === 'prioritized') await queue.remove(key).catch(() => 0);
      }),
    );
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
  pending: number;
  recreated: number;
  /** Refunds sent again because no outcome came back after `resubmitUnsettledAfterMs`. */
  resubmitted: number;
}

const RECONCILE_PAGE = 1000;

/**
 * A refund the payment centre accepted but never reported on is sent again
 * after this long, under the same refundId (its idempotency key): a lost
 * callback, or a sandbox that restarted, must not leave the buyer waiting.
 */
export const RESUBMIT_UNSETTLED_AFTER_MS = 15 * 60_000;

/**
 * Makes sure every piece of pending work has its job (ARCHITECTURE.md rule
 * 4): walks the durable pending table and re-creates any job Redis does not
 * have, overdue ones to run at once. Losing every Redis key therefore delays
 * work until the next pass and loses none of it.
 */
export async function reconcileWork(
  store: WorkStore,
  queues: WorkQueues,
  options: { resubmitUnsettledAfterMs?: number; now?: () => number } = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = { pending: 0, recreated: 0, resubmitted: 0 };
  const resubmitAfter = options.resubmitUnsettledAfterMs ?? RESUBMIT_UNSETTLED_AFTER_MS;
  const now = options.now ?? Date.now;
  let after: { dueAt: number; key: string } | undefined;
  for (;;) {
    const page = store.pending(after, RECONCILE_PAGE);
    if (page.length === 0) return report;
    report.pending += page.length;
    const exists = await queues.existing(page);
    const missing = page.filter((_, i) => !exists[i]);
    // Still owed although its job finished: a refund submitted whose outcome never came back.
    const unsettled = page.filter((work, i) => exists[i] && work.queue === 'refunds');
    let resubmitted = 0;
    for (const work of unsettled) {
      const job = await queues.queue('refunds').getJob(work.key);
      if (!job?.finishedOn || job.failedReason || now() - job.finishedOn < resubmitAfter) continue;
      await job.remove().catch(() => undefined);
      missing.push({ ...work, dueAt: now() });
      resubmitted += 1;
    }
    if (missing.length > 0) await queues.add(missing);
    report.recreated += missing.length - resubmitted;
    report.resubmitted += resubmitted;
    const last = page[page.length - 1];
    after = { dueAt: last.dueAt, key: last.key };
  }
}
