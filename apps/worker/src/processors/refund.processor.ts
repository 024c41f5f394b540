import { Inject, Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { StreamReadsService } from '@aftersales/application';
import { PAYMENT_CENTRE, ProviderRejectedError, ProviderRetryableError, type PaymentCentre } from '@aftersales/integrations';
import { REFUND_ATTEMPTS, WORKER_NAME, type JobData, type PendingWork } from '@aftersales/scheduling';
import { INTEGRATION_ACTOR, SystemCommands } from '../system-commands';
import { waitAsProviderAsks } from './provider-retry';
import { STALLED_JOBS } from './stalled-jobs';

type RefundWork = Extract<PendingWork, { queue: 'refunds' }>;

/**
 * Sends a refund to the payment centre (DOMAIN.md "Money"): at least once,
 * paid at most once, because every attempt carries the same `refundId` as
 * the idempotency key. The outcome arrives through the signed payments
 * callback. An attempt the payment centre refuses, or cannot be reached for
 * through every retry, is recorded as `RefundFailed`; the next attempt is a
 * job of its own after a back-off, and after REFUND_ATTEMPTS the failure is
 * final and the case goes to the agent pool. A Retry-After on the last try
 * goes with the failure, so the next attempt's job waits for it too. An
 * agent's `retry-refund` starts a new series under the same refundId; the
 * job says which attempt ends it (`lastAttempt`).
 */
@Processor('refunds', { concurrency: 32, name: WORKER_NAME, ...STALLED_JOBS })
export class RefundProcessor extends WorkerHost {
  private readonly logger = new Logger(RefundProcessor.name);

  constructor(
    @Inject(PAYMENT_CENTRE) private readonly payments: PaymentCentre,
    private readonly commands: SystemCommands,
    private readonly reads: StreamReadsService,
  ) {
    super();
  }

  async process(job: Job<JobData<RefundWork>>): Promise<string> {
    const { caseId, work } = job.data;
    const notOwed = await this.notOwed(job);
    if (notOwed) return `not sent: ${notOwed}`;
    const lastAttempt = work.lastAttempt ?? REFUND_ATTEMPTS;
    if (work.attempt > lastAttempt) return this.recordFailure(job, `gave up after ${REFUND_ATTEMPTS} attempts`, true);
    try {
      const accepted = await this.payments.submitRefund({
        refundId: work.refundId,
        caseId,
        orderId: work.orderId,
        amount: work.amount,
        currency: work.currency,
        purpose: work.purpose === 'compensation' ? 'compensation' : 'refund',
        express: work.express,
      });
      return `submitted${accepted.providerRef ? ` (${accepted.providerRef})` : ''}`;
    } catch (error) {
      if (error instanceof ProviderRejectedError) return this.recordFailure(job, error.message, work.attempt >= lastAttempt);
      const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (error instanceof ProviderRetryableError && lastTry) {
        return this.recordFailure(job, error.message, work.attempt >= lastAttempt, error.retryAfterMs);
      }
      waitAsProviderAsks(job, error);
      throw error;
    }
  }

  /**
   * Why this job must not move money, checked against the case stream before
   * anything is sent: a job no case issued (made by hand, a Redis shared by
   * mistake, another id or amount) is dropped with a warning; one for a
   * refund already settled, or given up for good, is simply no longer owed.
   */
  private async notOwed(job: Job<JobData<RefundWork>>): Promise<string | undefined> {
    const { caseId, work } = job.data;
    const refunds = (await this.reads.caseOnRecord(caseId))?.refunds;
    const refund = refunds?.find((r) => r.refundId === work.refundId);
    if (!refund || refund.amount !== work.amount) {
      const why = refunds ? `case ${caseId} issued no refund ${work.refundId} of ${work.amount}` : `there is no case ${caseId}`;
      this.logger.warn(`refund job ${job.id} dropped: ${why}`);
      return why;
    }
    return refund.status === 'pending' ? undefined : `refund ${work.refundId} is ${refund.status}`;
  }

  /** Known by its attempt number, so the same failure recorded twice (a retried job) counts once. */
  private async recordFailure(job: Job<JobData<RefundWork>>, error: string, final: boolean, retryAfterMs?: number): Promise<string> {
    const { caseId, work } = job.data;
    const data = { refundId: work.refundId, error: error.slice(0, 500), attempt: work.attempt, final };
    const outcome = await this.commands.execute(
      caseId,
      // A final failure waits for a person, not for the payment centre: its Retry-After has no next attempt to delay.
      { type: 'refund-failed', actor: INTEGRATION_ACTOR, data: final || retryAfterMs === undefined ? data : { ...data, retryAfterMs } },
      job.id ?? '',
    );
    return outcome.kind === 'done' ? `failed (attempt ${work.attempt}${final ? ', final' : ''})` : `failure not recorded: ${outcome.reason}`;
  }
}
