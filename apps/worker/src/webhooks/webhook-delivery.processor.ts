import { Inject, Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { WEBHOOK_QUEUE, webhookRetryDelayMs, WebhookQueue, WebhookStore, type Delivery, type WebhookJobData, type WebhookRetryPolicy } from '@aftersales/scheduling';
import { STALLED_JOBS } from '../processors/stalled-jobs';
import { sendWebhook, type SendOutcome } from './webhook-sender';
import { WEBHOOK_QUEUE_SERVICE, WEBHOOK_RETRY_POLICY } from './webhook.tokens';

/** A send's result as the metrics count it. */
export type DeliveryResult = 'delivered' | 'retrying' | 'dead' | 'stale';

/**
 * Sends one attempt of the delivery at the head of a (webhook, case) chain.
 * The job only acts when the stored delivery is still at the attempt it
 * names: a duplicate or a job overtaken by a replay does nothing. Accepted:
 * marked delivered, then the chain's next head gets its job. Failed: the
 * attempt is recorded and the same delivery's next attempt is a new job
 * after the back-off; after the last attempt, or at once when the receiver
 * refused the request as such (a 4xx other than 408/409/425/429, a
 * redirect), it is a dead letter and the chain waits behind it.
 */
// A delivery caught by a dying process is sent again within some fifteen seconds (receivers tell repeats by X-Event-Id).
@Processor(WEBHOOK_QUEUE, { concurrency: 16, ...STALLED_JOBS })
export class WebhookDeliveryProcessor extends WorkerHost {
  private readonly logger = new Logger('Webhooks');
  /** Called after every job that acted (for metrics). */
  onResult?: (result: DeliveryResult, job: WebhookJobData) => void;

  constructor(
    private readonly store: WebhookStore,
    @Inject(WEBHOOK_QUEUE_SERVICE) private readonly queue: WebhookQueue,
    @Inject(WEBHOOK_RETRY_POLICY) private readonly policy: WebhookRetryPolicy,
  ) {
    super();
  }

  async process(job: Job<WebhookJobData>): Promise<string> {
    const result = await this.deliver(job.data);
    this.onResult?.(result, job.data);
    return result;
  }

  private async deliver(data: WebhookJobData): Promise<DeliveryResult> {
    const delivery = this.store.delivery(data.deliveryId);
    if (!delivery || delivery.status !== 'pending' || delivery.round !== data.round || delivery.attempts !== data.attempts) return 'stale';
    const chain = { webhookId: delivery.webhookId, caseId: delivery.caseId };
    if (this.store.head(chain)?.deliveryId !== delivery.deliveryId) {
      // An earlier event of the case is still owed: it goes first (its job is asked for again in case Redis lost it).
      await this.queue.schedule(this.store, [chain]);
      return 'stale';
    }
    const subscription = this.store.subscription(delivery.webhookId);
    if (!subscription) return 'stale';

    const outcome = await sendWebhook({
      url: subscription.url,
      secret: subscription.secret,
      webhookId: delivery.webhookId,
      eventId: delivery.eventId,
      body: delivery.body,
      now: new Date(),
    });
    return this.record(delivery, outcome);
  }

  private async record(delivery: Delivery, outcome: SendOutcome): Promise<DeliveryResult> {
    const now = Date.now();
    const chain = { webhookId: delivery.webhookId, caseId: delivery.caseId };
    if (outcome.kind === 'accepted') {
      if (!this.store.recordDelivered(delivery, now)) return 'stale';
      await this.queue.schedule(this.store, [chain]);
      return 'delivered';
    }
    const made = delivery.attempts + 1;
    const retryAt = outcome.retryable && made < this.policy.attempts ? now + webhookRetryDelayMs(this.policy, made, outcome.retryAfterMs) : undefined;
    if (!this.store.recordFailed(delivery, outcome.error, now, retryAt)) return 'stale';
    if (retryAt !== undefined) {
      await this.queue.schedule(this.store, [chain]);
      return 'retrying';
    }
    this.logger.warn(
      `webhook ${delivery.webhookId}: delivery ${delivery.deliveryId} (${delivery.type} of case ${delivery.caseId}) is a dead letter after ${made} attempt(s): ${outcome.error}`,
    );
    return 'dead';
  }
}
