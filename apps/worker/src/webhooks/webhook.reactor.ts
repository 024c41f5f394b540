import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EVENT_STORE } from '@aftersales/application';
import { LogFollower, type EventStore, type StoredEvent } from '@aftersales/event-store';
import {
  SUBSCRIBABLE_EVENT_TYPES,
  WEBHOOK_CHECKPOINT,
  WebhookPlanner,
  webhookReactorEventTypes,
  WebhookQueue,
  WebhookStore,
} from '@aftersales/scheduling';
import { WEBHOOK_QUEUE_SERVICE } from './webhook.tokens';

/**
 * Follows the log from its own checkpoint (only the case events a webhook
 * may want and the webhooks' own events) and keeps the delivery table in
 * step, the checkpoint stored in the same transaction; then asks for the
 * job of each chain the batch touched. A crash between the two leaves rows
 * the reconciler finds. A batch no subscription wants writes nothing but
 * the checkpoint, at most once a second (WebhookPlanner).
 */
@Injectable()
export class WebhookReactor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookReactor.name);
  readonly follower: LogFollower;
  private readonly planner: WebhookPlanner;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    private readonly webhooks: WebhookStore,
    @Inject(WEBHOOK_QUEUE_SERVICE) private readonly queue: WebhookQueue,
  ) {
    this.planner = new WebhookPlanner(webhooks);
    this.follower = new LogFollower(store, {
      name: WEBHOOK_CHECKPOINT,
      eventTypes: webhookReactorEventTypes(SUBSCRIBABLE_EVENT_TYPES),
      // The planner's subscriptions in memory are read with the checkpoint, at start and after every failure.
      checkpoint: async () => this.planner.resume(),
      handle: (events, position) => this.handle(events, position),
      onError: (error, after) => this.logger.error(`webhook reactor failed; resuming after position ${after}: ${error.message}`),
    });
  }

  onApplicationBootstrap(): void {
    this.follower.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.follower.stop();
    // The checkpoint of batches that wrote nothing is stored at most once a second: store the last one now.
    try {
      this.planner.flush();
    } catch (error) {
      this.logger.warn(`webhook reactor checkpoint not stored on the way out (the next start re-reads from the last one): ${(error as Error).message}`);
    }
  }

  private async handle(events: StoredEvent[], position: number): Promise<void> {
    const chains = this.planner.apply(events, position);
    if (chains && chains.length > 0) await this.queue.schedule(this.webhooks, chains);
  }
}
