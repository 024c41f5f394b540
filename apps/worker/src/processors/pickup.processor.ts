import { Inject, Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { StreamReadsService } from '@aftersales/application';
import { CARRIER, ProviderRejectedError, type Carrier } from '@aftersales/integrations';
import { WORKER_NAME, type JobData, type PendingWork } from '@aftersales/scheduling';
import { waitAsProviderAsks } from './provider-retry';
import { STALLED_JOBS } from './stalled-jobs';
import { SystemCommands, WORKER_ACTOR } from '../system-commands';

type PickupWork = Extract<PendingWork, { queue: 'pickups' }>;

/**
 * Books the door pickup a buyer asked for (DOMAIN.md "Return shipping") and
 * records it (`PickupScheduled`). The carrier's idempotency key is the case
 * id, so a booking retried after a crash is the same parcel; one the
 * carrier refuses leaves the buyer to ship the return themselves.
 */
@Processor('pickups', { concurrency: 16, name: WORKER_NAME, ...STALLED_JOBS })
export class PickupProcessor extends WorkerHost {
  private readonly logger = new Logger(PickupProcessor.name);

  constructor(
    @Inject(CARRIER) private readonly carrier: Carrier,
    private readonly commands: SystemCommands,
    private readonly reads: StreamReadsService,
  ) {
    super();
  }

  async process(job: Job<JobData<PickupWork>>): Promise<string> {
    const { caseId, work } = job.data;
    const notOwed = await this.notOwed(job);
    if (notOwed) return `not booked: ${notOwed}`;
    let booking;
    try {
      booking = await this.carrier.bookPickup({ caseId, orderId: work.orderId, buyerId: work.buyerId });
    } catch (error) {
      if (!(error instanceof ProviderRejectedError)) {
        waitAsProviderAsks(job, error);
        throw error;
      }
      this.logger.warn(`the carrier refused a pickup for case ${caseId}: ${error.message}; the buyer can still ship the return`);
      return 'refused by the carrier';
    }
    const outcome = await this.commands.execute(caseId, { type: 'schedule-pickup', actor: WORKER_ACTOR, data: booking }, job.id ?? '');
    return outcome.kind === 'done' ? `booked ${booking.trackingNumber}` : `not recorded: ${outcome.reason}`;
  }

  /**
   * Why no courier should be sent, checked against the case stream first: a
   * job for no case, or for another order or buyer than the case's (made by
   * hand, a Redis shared by mistake), is dropped with a warning; one for a
   * case no longer awaiting its return, or already booked, is no longer owed.
   */
  private async notOwed(job: Job<JobData<PickupWork>>): Promise<string | undefined> {
    const { caseId, work } = job.data;
    const view = await this.reads.caseOnRecord(caseId);
    if (!view || view.orderId !== work.orderId || view.buyerId !== work.buyerId) {
      const why = view ? `case ${caseId} is not of order ${work.orderId} and buyer ${work.buyerId}` : `there is no case ${caseId}`;
      this.logger.warn(`pickup job ${job.id} dropped: ${why}`);
      return why;
    }
    if (view.status !== 'awaiting_return') return `case ${caseId} is ${view.status}`;
    return view.pickup ? `case ${caseId} has its pickup` : undefined;
  }
}
