import { caseStream } from '@aftersales/domain';
import type { StoredEvent } from '@aftersales/event-store';
import {
  deliveryIdOf,
  isSubscribable,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_STREAM_PREFIX,
  type WebhookBody,
  type WebhookCancelledData,
  type WebhookDeliveryReplayedData,
  type WebhookSubscribedData,
} from './webhook-events';
import type { Chain, WebhookStore } from './webhook-store';

export const WEBHOOK_CHECKPOINT = 'webhooks';
const CASE_PREFIX = caseStream('');

/** The event types the webhook reactor reads: the subscribable case events and its own. */
export const webhookReactorEventTypes = (subscribable: readonly string[]): string[] => [...subscribable, ...Object.values(WEBHOOK_EVENT_TYPES)];

const occurredAt = (event: StoredEvent): string => (event.metadata.occurredAt as string | undefined) ?? event.recordedAt.toISOString();

/** The body a subscriber gets for one case event: the same bytes on every attempt. */
export function webhookBody(event: StoredEvent, caseId: string): string {
  const body: WebhookBody = { eventId: event.id, type: event.type, caseId, position: event.position, occurredAt: occurredAt(event), data: event.data };
  return JSON.stringify(body);
}

/**
 * Turns one batch of the log into webhook state, in log order: a
 * subscription applies to the case events after its `WebhookSubscribed`, a
 * cancellation ends it and drops what it still owed, a replay puts a dead
 * letter back in its chain, and every case event of a subscribed type
 * becomes one delivery per matching subscription. Returns the chains whose
 * head may now need a job (undefined: the batch was applied already).
 */
export class WebhookPlanner {
  constructor(
    private readonly store: WebhookStore,
    private readonly now: () => number = Date.now,
  ) {}

  apply(events: readonly StoredEvent[], position: number): Chain[] | undefined {
    const now = this.now();
    return this.store.apply(WEBHOOK_CHECKPOINT, position, (writer, checkpoint) => {
      const touched = new Map<string, Chain>();
      const touch = (chain: Chain) => touched.set(`${chain.webhookId} ${chain.caseId}`, chain);
      for (const event of events) {
        if (event.position <= checkpoint) continue;
        if (event.streamName.startsWith(WEBHOOK_STREAM_PREFIX)) {
          if (event.type === WEBHOOK_EVENT_TYPES.subscribed) {
            const data = event.data as WebhookSubscribedData;
            // Only the API writes these, validated; one that is not even shaped right subscribes nothing rather than stopping the reactor.
            if (!Array.isArray(data?.events) || typeof data.url !== 'string' || typeof data.secret !== 'string') continue;
            writer.subscribe({ webhookId: data.webhookId, url: data.url, events: data.events, secret: data.secret, createdAt: occurredAt(event), position: event.position });
          } else if (event.type === WEBHOOK_EVENT_TYPES.cancelled) {
            writer.cancel((event.data as WebhookCancelledData).webhookId, occurredAt(event));
          } else if (event.type === WEBHOOK_EVENT_TYPES.replayed) {
            const chain = writer.replay((event.data as WebhookDeliveryReplayedData).deliveryId, now);
            if (chain) touch(chain);
          }
          continue;
        }
        if (!event.streamName.startsWith(CASE_PREFIX) || !isSubscribable(event.type)) continue;
        const caseId = event.streamName.slice(CASE_PREFIX.length);
        let body: string | undefined;
        for (const subscription of writer.active().values()) {
          if (!subscription.events.includes(event.type)) continue;
          body ??= webhookBody(event, caseId);
          const chain = { webhookId: subscription.webhookId, caseId };
          writer.addDelivery(
            { deliveryId: deliveryIdOf(subscription.webhookId, event.position), ...chain, position: event.position, eventId: event.id, type: event.type, body },
            now,
          );
          touch(chain);
        }
      }
      return [...touched.values()];
    });
  }
}
