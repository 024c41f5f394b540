import { Inject, Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { CARRIER, ProviderRejectedError, type Carrier } from '@aftersales/integrations';
import { WORKER_NAME, type JobData, type PendingWork } from '@aftersales/scheduling';
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
  ) {
    super();
  }

  async process(job: Job<JobData<PickupWork>>): Promise<string> {
    const { caseId, work } = job.data;
    let booking;
    try {
      booking = await this.carrier.bookPickup({ caseId, orderId: work.orderId, buyerId: work.buyerId });
    } catch (error) {
      if (!(error instanceof ProviderRejectedError)) throw error;
      this.logger.warn(`the carrier refused a pickup for case ${caseId}: ${error.message}; the buyer can still ship the return`);
      return 'refused by the carrier';
    }
    const outcome = await this.commands.execute(caseId, { type: 'schedule-pickup', actor: WORKER_ACTOR, data: booking }, job.id ?? '');
    return outcome.kind === 'done' ? `booked ${booking.trackingNumber}` : `not recorded: ${outcome.reason}`;
  }
}
