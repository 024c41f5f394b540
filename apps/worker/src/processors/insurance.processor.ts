import { Inject, Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { UnrecoverableError, type Job } from 'bullmq';
import { ProviderRejectedError, SHIPPING_INSURER, type ShippingInsurer } from '@aftersales/integrations';
import { WORKER_NAME, type JobData, type PendingWork } from '@aftersales/scheduling';
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
  ) {
    super();
  }

  async process(job: Job<JobData<InsuranceWork>>): Promise<string> {
    const { caseId, work } = job.data;
    try {
      await this.insurer.claim({ claimId: work.claimId, caseId, orderId: work.orderId, amount: work.amount, currency: work.currency });
    } catch (error) {
      if (!(error instanceof ProviderRejectedError)) throw error;
      // Left pending on purpose: a refused claim needs a person, and the failed job stays in the dashboard (/queues) to be retried there.
      this.logger.error(`the insurer refused claim ${work.claimId} of case ${caseId}: ${error.message}`);
      throw new UnrecoverableError(error.message);
    }
    const outcome = await this.commands.execute(caseId, { type: 'shipping-insurance-paid', actor: WORKER_ACTOR, data: { claimId: work.claimId, amount: work.amount } }, job.id ?? '');
    return outcome.kind === 'done' ? 'paid' : `not recorded: ${outcome.reason}`;
  }
}
