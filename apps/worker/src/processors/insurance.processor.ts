import { Inject, Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { UnrecoverableError, type Job } from 'bullmq';
import { CommandRefusedError, StreamReadsService } from '@aftersales/application';
import { ProviderRejectedError, SHIPPING_INSURER, type ShippingInsurer } from '@aftersales/integrations';
import { WORKER_NAME, type JobData, type PendingWork } from '@aftersales/scheduling';
import { waitAsProviderAsks } from './provider-retry';
import { STALLED_JOBS } from './stalled-jobs';
import { SystemCommands, WORKER_ACTOR } from '../system-commands';

type InsuranceWork = Extract<PendingWork, { queue: 'insurance' }>;

/**
 * Files the return-shipping insurance claim (运费险) a case recorded
 * (`ShippingInsuranceClaimed`) and records the insurer's payment
 * (`ShippingInsurancePaid`). The claim id is the insurer's idempotency key.
 */
@Processor('insurance', { concurrency: 8, name: WORKER_NAME, ...STALLED_JOBS })
export class InsuranceProcessor extends WorkerHost {
  private readonly logger = new Logger(InsuranceProcessor.name);

  constructor(
    @Inject(SHIPPING_INSURER) private readonly insurer: ShippingInsurer,
    private readonly commands: SystemCommands,
    private readonly reads: StreamReadsService,
  ) {
    super();
  }

  async process(job: Job<JobData<InsuranceWork>>): Promise<string> {
    const { caseId, work } = job.data;
    const notOwed = await this.notOwed(job);
    if (notOwed) return `not filed: ${notOwed}`;
    try {
      await this.insurer.claim({ claimId: work.claimId, caseId, orderId: work.orderId, amount: work.amount, currency: work.currency });
    } catch (error) {
      if (!(error instanceof ProviderRejectedError)) {
        waitAsProviderAsks(job, error);
        throw error;
      }
      // Left pending on purpose: a refused claim needs a person, and the failed job stays in the dashboard (/queues) to be retried there.
      this.logger.error(`the insurer refused claim ${work.claimId} of case ${caseId}: ${error.message}`);
      throw new UnrecoverableError(error.message);
    }
    const outcome = await this.commands.execute(caseId, { type: 'shipping-insurance-paid', actor: WORKER_ACTOR, data: { claimId: work.claimId, amount: work.amount } }, job.id ?? '');
    return outcome.kind === 'done' ? 'paid' : `not recorded: ${outcome.reason}`;
  }

  /**
   * Why this job must not claim money, checked against the case stream first:
   * a claim no case recorded (a job made by hand, a Redis shared by mistake,
   * another id or amount) is dropped with a warning; one already paid is no
   * longer owed.
   */
  private async notOwed(job: Job<JobData<InsuranceWork>>): Promise<string | undefined> {
    const { caseId, work } = job.data;
    let events;
    try {
      // A case's stream is short (tens of events): read whole.
      events = (await this.reads.caseEvents(caseId, WORKER_ACTOR, { fromRevision: 0, maxCount: 100_000 })).events;
    } catch (error) {
      if (!(error instanceof CommandRefusedError)) throw error;
    }
    const ofClaim = (events ?? []).filter((e) => (e.data as { claimId?: string }).claimId === work.claimId);
    const claimed = ofClaim.some((e) => e.type === 'ShippingInsuranceClaimed' && (e.data as { amount?: number }).amount === work.amount);
    if (!claimed) {
      const why = events ? `case ${caseId} recorded no claim ${work.claimId} of ${work.amount}` : `there is no case ${caseId}`;
      this.logger.warn(`insurance job ${job.id} dropped: ${why}`);
      return why;
    }
    return ofClaim.some((e) => e.type === 'ShippingInsurancePaid') ? `claim ${work.claimId} is paid` : undefined;
  }
}
