// Outbound webhooks (API.md "Outbound"), the delivery side.
//
// Design:
// - Subscriptions are facts on `webhook-<webhookId>` streams (WebhookSubscribed
//   with url, events and secret; WebhookCancelled; WebhookDeliveryReplayed when
//   an admin replays a dead letter). The API appends them; nothing else does.
// - The WebhookReactor follows the log from its own checkpoint and keeps the
//   `wh_*` tables of the service's SQLite file in step, in one IMMEDIATE
//   transaction with the checkpoint: a subscription applies to the case
//   events after its own position; each matching case event becomes one
//   delivery row per subscription, id `<webhookId>-<position>`, with the
//   body `{ eventId, type, caseId, position, occurredAt, data }` frozen as sent.
// - In order per case: deliveries of one (webhook, case) form a chain and only
//   its head (oldest not delivered) is ever sent. Each attempt is one BullMQ
//   job on the `webhooks` queue, id `webhook-<deliveryId>-r<round>-a<attempts>`,
//   so whoever asks for it (reactor, processor, reconciler, any process)
//   gets one job; the processor acts only if the row is still at that
//   attempt (compare-and-set), then asks for the chain's next job.
// - Retries: exponential back-off (DEFAULT_WEBHOOK_RETRY: 10 sends, 1 s
//   doubling, 5 min cap, Retry-After honoured up to the cap) for no answer,
//   5xx, 408, 409, 425, 429. After the last attempt, or at once for a
//   refusal (another 4xx, a redirect: the same signed bytes will not get
//   past it), the delivery is a dead letter and its chain WAITS behind it
//   ("in order per case" is a promise) until an admin replays it; other
//   cases and other webhooks go on. Cancelling a webhook drops what it
//   still owed, dead letters included.
// - At least once: a worker killed between the receiver's 2xx and the row
//   being marked sends again; receivers de-duplicate by X-Event-Id (also
//   sent as Idempotency-Key). Signed as the integration callbacks are.
// - The WebhookReconciler, on the worker's reconcile timer in this process,
//   re-creates the job of every chain with a send owed that Redis lost (or
//   whose job failed for good), and forgets delivered rows after 7 days.
import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG, REDIS } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { DEFAULT_WEBHOOK_RETRY, WEBHOOK_QUEUE, WebhookQueue, WebhookStore } from '@aftersales/scheduling';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookReactor } from './webhook.reactor';
import { WebhookReconciler } from './webhook-reconciler';
import { WEBHOOK_QUEUE_SERVICE, WEBHOOK_RETRY_POLICY } from './webhook.tokens';

/**
 * Closes the delivery table last: the processor's worker is closed first
 * (active sends finish and are recorded; closing it again later is a
 * no-op), so no job meets a closed database on the way out.
 */
@Injectable()
class WebhookStoreShutdown implements OnApplicationShutdown {
  constructor(
    private readonly store: WebhookStore,
    private readonly processor: WebhookDeliveryProcessor,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    let worker: WebhookDeliveryProcessor['worker'] | undefined;
    try {
      worker = this.processor.worker;
    } catch {
      // Never started (the application failed during start): nothing runs.
    }
    await worker?.close();
    this.store.close();
  }
}

/**
 * The worker's webhook delivery: reactor, processor, reconciler and
 * metrics. Needs BullModule.forRoot (WorkerModule) and the process's
 * InfrastructureModule (APP_CONFIG, EVENT_STORE, REDIS).
 */
@Module({
  imports: [BullModule.registerQueue({ name: WEBHOOK_QUEUE })],
  providers: [
    { provide: WebhookStore, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new WebhookStore(config.eventStore.sqlitePath) },
    WebhookStoreShutdown,
    { provide: WEBHOOK_QUEUE_SERVICE, inject: [getQueueToken(WEBHOOK_QUEUE), REDIS], useFactory: (queue: Queue, redis: Redis) => new WebhookQueue(queue, redis) },
    { provide: WEBHOOK_RETRY_POLICY, useValue: DEFAULT_WEBHOOK_RETRY },
    WebhookReactor,
    WebhookReconciler,
    WebhookDeliveryProcessor,
    WebhookMetrics,
  ],
  exports: [WebhookStore, WebhookReactor, WebhookReconciler],
})
export class WebhooksWorkerModule {}
