import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Chain, Delivery, WebhookStore } from './webhook-store';

export const WEBHOOK_QUEUE = 'webhooks';

/** A job sends one attempt of the delivery at the head of its chain. */
export interface WebhookJobData {
  deliveryId: string;
  webhookId: string;
  caseId: string;
  round: number;
  attempts: number;
  /** When the attempt was due, for lateness. */
  dueAt: number;
}

/**
 * One job per attempt of a delivery, named by the delivery, its replay round
 * and the attempts already made: the reactor, the processor and the
 * reconciler may all ask for the head's job of a chain, any number of times,
 * and BullMQ keeps one. No `:` (BullMQ refuses it in custom ids).
 */
export const webhookJobId = (d: Pick<Delivery, 'deliveryId' | 'round' | 'attempts'>): string => `webhook-${d.deliveryId}-r${d.round}-a${d.attempts}`;

/**
 * Failed sends are not job failures: the processor records them and asks
 * for the next attempt's job itself. BullMQ's own retries are only for the
 * processor failing (its store busy, the process killed mid-job); finished
 * jobs stay a day so a late duplicate add is still recognised.
 */
export const WEBHOOK_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 86400, count: 100_000 },
  removeOnFail: { age: 7 * 86400 },
};

export class WebhookQueue {
  constructor(
    readonly queue: Queue,
    /** Any connection to the queue's Redis: the reconciler asks it which jobs exist. */
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds the jobs of these heads (pending ones; a dead head holds its chain and gets none). */
  async add(heads: readonly Delivery[]): Promise<void> {
    const owed = heads.filter((d) => d.status === 'pending');
    if (owed.length === 0) return;
    const now = this.now();
    await this.queue.addBulk(
      owed.map((d) => ({
        name: 'deliver',
        data: { deliveryId: d.deliveryId, webhookId: d.webhookId, caseId: d.caseId, round: d.round, attempts: d.attempts, dueAt: d.nextAttemptAt } satisfies WebhookJobData,
        opts: { ...WEBHOOK_JOB_OPTIONS, jobId: webhookJobId(d), delay: Math.max(0, d.nextAttemptAt - now) },
      })),
    );
  }

  /** Makes sure each chain's head, if a send is owed, has its job. */
  async schedule(store: WebhookStore, chains: readonly Chain[]): Promise<void> {
    const heads = chains.map((chain) => store.head(chain)).filter((d): d is Delivery => d !== undefined);
    await this.add(heads);
  }

  /**
   * Which of these heads have no live job: none in Redis, or one that
   * finished without moving its delivery on, which would otherwise hold its
   * id, and its chain, for ever: failed for good (the processor broke every
   * time), or completed (a job that ran while its delivery was not yet the
   * head; a job that recorded its attempt has moved the delivery to
   * another job id).
   */
  async missing(heads: readonly Delivery[]): Promise<{ absent: Delivery[]; finished: Delivery[] }> {
    if (heads.length === 0) return { absent: [], finished: [] };
    const pipeline = this.redis.pipeline();
    const failedKey = this.queue.toKey('failed');
    const completedKey = this.queue.toKey('completed');
    for (const head of heads) {
      const id = webhookJobId(head);
      pipeline.exists(this.queue.toKey(id));
      pipeline.zscore(failedKey, id);
      pipeline.zscore(completedKey, id);
    }
    const results = (await pipeline.exec()) ?? [];
    const absent: Delivery[] = [];
    const finished: Delivery[] = [];
    const present = (i: number) => {
      const [error, value] = results[i] ?? [];
      return !error && value !== null && value !== undefined;
    };
    heads.forEach((head, i) => {
      const [existsError, exists] = results[3 * i] ?? [];
      if (existsError || exists !== 1) absent.push(head);
      else if (present(3 * i + 1) || present(3 * i + 2)) finished.push(head);
    });
    return { absent, finished };
  }
}

export interface WebhookReconcileReport {
  /** Chains with a send owed. */
  pending: number;
  recreated: number;
}

const RECONCILE_PAGE = 1000;

/**
 * Gives every chain with a send owed its job (ARCHITECTURE.md rule 4):
 * walks the durable delivery table and re-creates what Redis lost, or
 * replaces a job that finished without moving its delivery on; an overdue
 * one runs at once.
 */
export async function reconcileWebhooks(store: WebhookStore, queue: WebhookQueue): Promise<WebhookReconcileReport> {
  const report: WebhookReconcileReport = { pending: 0, recreated: 0 };
  let after: Chain | undefined;
  for (;;) {
    const heads = store.pendingHeads(after, RECONCILE_PAGE);
    if (heads.length === 0) return report;
    const owed = heads.filter((d) => d.status === 'pending');
    report.pending += owed.length;
    const { absent, finished } = await queue.missing(owed);
    for (const head of finished) await queue.queue.remove(webhookJobId(head)).catch(() => 0);
    await queue.add([...absent, ...finished]);
    report.recreated += absent.length + finished.length;
    const last = heads[heads.length - 1];
    after = { webhookId: last.webhookId, caseId: last.caseId };
  }
}
