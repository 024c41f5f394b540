import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVENT_STORE, timeOrderedUuid, toNewEvents, type CommandOrigin } from '@aftersales/application';
import { ConcurrencyError, EventStoreUnavailableError, type EventStore, type ExpectedRevision } from '@aftersales/event-store';
import {
  WEBHOOK_CHECKPOINT,
  WEBHOOK_EVENT_TYPES,
  webhookStream,
  WebhookStore,
  type Delivery,
  type WebhookCancelledData,
  type WebhookDeliveryReplayedData,
  type WebhookListing,
  type WebhookSubscribedData,
} from '@aftersales/scheduling';
import { ProblemException, problems } from '../problem/problem';

/** How long a list waits for the webhook reactor to take in the subscription changes made before it. */
const CATCH_UP_WAIT_MS = 5000;
/** One indexed read of the shared SQLite file per poll: cheap, and the reactor usually needs a few milliseconds. */
const CATCH_UP_POLL_MS = 10;

export interface NewWebhook {
  url: string;
  events: string[];
  secret: string;
}

/**
 * The admin side of outbound webhooks. Writes are events on the
 * subscription's own stream (`webhook-<webhookId>`), read back by the
 * worker's webhook reactor; reads come from the tables that reactor keeps.
 * No answer of this class carries a subscription's secret.
 */
@Injectable()
export class WebhookSubscriptions {
  private readonly logger = new Logger(WebhookSubscriptions.name);

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly store: WebhookStore,
  ) {}

  async subscribe(input: NewWebhook, origin: CommandOrigin, now: Date): Promise<WebhookListing> {
    const webhookId = timeOrderedUuid(now.getTime());
    const data: WebhookSubscribedData = { webhookId, url: input.url, events: input.events, secret: input.secret };
    const position = await this.append(webhookStream(webhookId), WEBHOOK_EVENT_TYPES.subscribed, data, origin, now, 'no_stream');
    this.noteSubscriptionChange(position);
    return { webhookId, url: input.url, events: input.events, createdAt: now.toISOString() };
  }

  /**
   * Active subscriptions, once the reactor has taken in the last
   * subscription change any API process made before the request (so one
   * just made, or cancelled, shows); 503 with Retry-After when it has not
   * within 5 s. Only that change is waited for, not the head of the log: the
   * reactor stores its checkpoint at once with a batch that changes
   * subscriptions, but only once a second for the case events no
   * subscription wants, and those say nothing about the list.
   */
  async list(): Promise<WebhookListing[]> {
    const needed = this.store.lastSubscriptionChange();
    const until = Date.now() + CATCH_UP_WAIT_MS;
    while (this.store.checkpoint(WEBHOOK_CHECKPOINT) < needed) {
      if (Date.now() > until) {
        throw new ProblemException(
          503,
          'Service Unavailable',
          'The webhook worker has not caught up with the log yet; retry after the number of seconds in Retry-After.',
          {},
          { headers: { 'Retry-After': '5' } },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
    }
    return this.store.listSubscriptions();
  }

  /** Records WebhookCancelled; 404 for a webhook that never existed or is cancelled already. */
  async cancel(webhookId: string, origin: CommandOrigin, now: Date): Promise<void> {
    const stream = await this.guard(() => this.events.readStream(webhookStream(webhookId)));
    const subscribed = stream.some((e) => e.type === WEBHOOK_EVENT_TYPES.subscribed);
    const cancelled = stream.some((e) => e.type === WEBHOOK_EVENT_TYPES.cancelled);
    if (!subscribed || cancelled) throw problems.notFound(`No active webhook ${webhookId}.`);
    const data: WebhookCancelledData = { webhookId };
    // Expected revision: of two cancellations racing, the second gets 409, not a second event.
    const position = await this.append(webhookStream(webhookId), WEBHOOK_EVENT_TYPES.cancelled, data, origin, now, stream[stream.length - 1].revision);
    this.noteSubscriptionChange(position);
  }

  deadLetters(options: { webhookId?: string; limit: number }): Delivery[] {
    return this.store.deadLetters(options);
  }

  /**
   * Records WebhookDeliveryReplayed for a dead letter; the worker puts it
   * back at the head of its chain, from its first attempt. 404 for an
   * unknown delivery, 409 for one that is not dead (pending again, or
   * delivered).
   */
  async replay(deliveryId: string, origin: CommandOrigin, now: Date): Promise<{ delivery: Delivery; position: number }> {
    const delivery = this.store.delivery(deliveryId);
    if (!delivery) throw problems.notFound(`No delivery ${deliveryId}.`);
    if (delivery.status !== 'dead') throw problems.conflict(`Delivery ${deliveryId} is not a dead letter (it is ${delivery.status}).`);
    const data: WebhookDeliveryReplayedData = { webhookId: delivery.webhookId, deliveryId };
    const position = await this.append(webhookStream(delivery.webhookId), WEBHOOK_EVENT_TYPES.replayed, data, origin, now, 'stream_exists');
    return { delivery, position };
  }

  /**
   * After the append and before the answer, so a list that starts after
   * the answer waits for the change. The change itself is recorded either
   * way: should the note fail (the file busy past its timeout), the caller
   * still gets its answer, and a list may miss the change until the
   * reactor has taken it in (milliseconds, as a rule).
   */
  private noteSubscriptionChange(position: number): void {
    try {
      this.store.noteSubscriptionChange(position);
    } catch (error) {
      this.logger.warn(`subscription change at position ${position} not noted for lists: ${(error as Error).message}`);
    }
  }

  private async append(stream: string, type: string, data: object, origin: CommandOrigin, now: Date, expectedRevision: ExpectedRevision): Promise<number> {
    const result = await this.guard(() => this.events.append(stream, toNewEvents([{ type, data }], origin, now), { expectedRevision }));
    return result.position;
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ConcurrencyError) throw problems.conflict('The webhook was changed at the same time; read it again and retry.');
      if (error instanceof EventStoreUnavailableError) {
        throw new ProblemException(503, 'Service Unavailable', 'The event store cannot be reached right now; retry shortly.', {}, { headers: { 'Retry-After': '5' } });
      }
      throw error;
    }
  }
}
