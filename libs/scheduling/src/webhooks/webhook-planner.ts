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
import type { Chain, NewDelivery, WebhookBatchWriter, WebhookStore, WebhookSubscription } from './webhook-store';

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

/** One write a batch owes, at the position of the event it comes from. */
type Write =
  | { kind: 'subscribe'; position: number; subscription: WebhookSubscription }
  | { kind: 'cancel'; position: number; webhookId: string; at: string }
  | { kind: 'replay'; position: number; deliveryId: string }
  | { kind: 'deliver'; position: number; delivery: NewDelivery };

/** The subscriptions as of `position` in the log, as this process has followed it. */
interface Subscriptions {
  position: number;
  active: Map<string, WebhookSubscription>;
  /** Every id ever subscribed: a WebhookSubscribed of an id already seen changes nothing (as in the table). */
  known: Set<string>;
}

export interface WebhookPlannerOptions {
  /** A checkpoint that moves with nothing else written is stored at most this often (default 1 s). */
  checkpointEveryMs?: number;
}

/**
 * Turns one batch of the log into webhook state, in log order: a
 * subscription applies to the case events after its `WebhookSubscribed`, a
 * cancellation ends it and drops what it still owed, a replay puts a dead
 * letter back in its chain, and every case event of a subscribed type
 * becomes one delivery per matching subscription. Returns the chains whose
 * head may now need a job (undefined: the batch was applied already).
 *
 * Most batches owe nothing (no subscription wants their events), so the
 * planner decides in memory first: it keeps the active subscriptions,
 * read from the store where it resumes and then changed by the webhook
 * events it reads itself (every process following the log reads the same,
 * so each one's memory matches the table even when another process wrote
 * it). A batch that owes nothing only moves the checkpoint, stored at most
 * once a second: a restart re-reads that second of log, which writes
 * nothing again. A batch that owes writes is applied in one transaction
 * with its checkpoint, as before.
 */
export class WebhookPlanner {
  private subscriptions?: Subscriptions;
  /** A batch failed part-way: memory may be ahead of the table until `resume`. */
  private failed = false;
  /** Checkpoint of batches that needed no write, not stored yet. */
  private owedCheckpoint?: number;
  private lastCheckpointAt = -Infinity;
  private checkpointTimer?: NodeJS.Timeout;
  private readonly checkpointEveryMs: number;

  constructor(
    private readonly store: WebhookStore,
    private readonly now: () => number = Date.now,
    options: WebhookPlannerOptions = {},
  ) {
    this.checkpointEveryMs = options.checkpointEveryMs ?? 1000;
  }

  /** Reads the stored checkpoint and the subscriptions as of it; the log is to be followed from the position returned. */
  resume(): number {
    this.dropOwedCheckpoint();
    this.subscriptions = this.load();
    this.failed = false;
    return this.subscriptions.position;
  }

  apply(events: readonly StoredEvent[], position: number): Chain[] | undefined {
    if (this.failed) throw new Error('an earlier webhook batch failed: resume from the stored checkpoint first');
    try {
      // Without a resume (a first batch), from the stored checkpoint.
      const subscriptions = (this.subscriptions ??= this.load());
      if (position <= subscriptions.position) return undefined;
      const now = this.now();
      const writes = this.plan(events, subscriptions);
      subscriptions.position = position;
      if (writes.length === 0) {
        this.oweCheckpoint(position, now);
        return [];
      }
      // Stored with the writes: anything owed before is behind it.
      this.dropOwedCheckpoint();
      // Not counted against the once-a-second: the API's list waits for the checkpoint, and a quiet log should not make it wait.
      return this.store.apply(WEBHOOK_CHECKPOINT, position, (writer, checkpoint) => this.write(writes, writer, checkpoint, now));
    } catch (error) {
      // Memory has taken in a batch the table may not have: no checkpoint moves until resumed.
      this.failed = true;
      this.subscriptions = undefined;
      this.dropOwedCheckpoint();
      throw error;
    }
  }

  /** Stores the checkpoint still owed (on the way out, so a restart re-reads less). */
  flush(): void {
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.owedCheckpoint === undefined || !this.store.open) return;
    this.store.storeCheckpoint(WEBHOOK_CHECKPOINT, this.owedCheckpoint);
    this.owedCheckpoint = undefined;
    this.lastCheckpointAt = this.now();
  }

  private load(): Subscriptions {
    const point = this.store.resumePoint(WEBHOOK_CHECKPOINT);
    return { position: point.checkpoint, active: new Map(point.active.map((s) => [s.webhookId, s])), known: new Set(point.known) };
  }

  /** What the batch owes, in log order; takes its webhook events into memory. */
  private plan(events: readonly StoredEvent[], subscriptions: Subscriptions): Write[] {
    const writes: Write[] = [];
    for (const event of events) {
      if (event.position <= subscriptions.position) continue;
      if (event.streamName.startsWith(WEBHOOK_STREAM_PREFIX)) {
        if (event.type === WEBHOOK_EVENT_TYPES.subscribed) {
          const data = event.data as WebhookSubscribedData;
          // Only the API writes these, validated; one that is not even shaped right subscribes nothing rather than stopping the reactor.
          if (!Array.isArray(data?.events) || typeof data.url !== 'string' || typeof data.secret !== 'string') continue;
          const subscription = { webhookId: data.webhookId, url: data.url, events: data.events, secret: data.secret, createdAt: occurredAt(event), position: event.position };
          if (!subscriptions.known.has(subscription.webhookId)) {
            subscriptions.known.add(subscription.webhookId);
            subscriptions.active.set(subscription.webhookId, subscription);
          }
          writes.push({ kind: 'subscribe', position: event.position, subscription });
        } else if (event.type === WEBHOOK_EVENT_TYPES.cancelled) {
          const { webhookId } = event.data as WebhookCancelledData;
          subscriptions.active.delete(webhookId);
          writes.push({ kind: 'cancel', position: event.position, webhookId, at: occurredAt(event) });
        } else if (event.type === WEBHOOK_EVENT_TYPES.replayed) {
          writes.push({ kind: 'replay', position: event.position, deliveryId: (event.data as WebhookDeliveryReplayedData).deliveryId });
        }
        continue;
      }
      if (!event.streamName.startsWith(CASE_PREFIX) || !isSubscribable(event.type)) continue;
      const caseId = event.streamName.slice(CASE_PREFIX.length);
      let body: string | undefined;
      for (const subscription of subscriptions.active.values()) {
        if (!subscription.events.includes(event.type)) continue;
        body ??= webhookBody(event, caseId);
        writes.push({
          kind: 'deliver',
          position: event.position,
          delivery: { deliveryId: deliveryIdOf(subscription.webhookId, event.position), webhookId: subscription.webhookId, caseId, position: event.position, eventId: event.id, type: event.type, body },
        });
      }
    }
    return writes;
  }

  /** Applies the writes after the stored checkpoint (another process may have applied the rest); the chains touched. */
  private write(writes: readonly Write[], writer: WebhookBatchWriter, checkpoint: number, now: number): Chain[] {
    const touched = new Map<string, Chain>();
    const touch = (chain: Chain) => touched.set(`${chain.webhookId} ${chain.caseId}`, chain);
    for (const write of writes) {
      if (write.position <= checkpoint) continue;
      switch (write.kind) {
        case 'subscribe':
          writer.subscribe(write.subscription);
          break;
        case 'cancel':
          writer.cancel(write.webhookId, write.at);
          break;
        case 'replay': {
          const chain = writer.replay(write.deliveryId, now);
          if (chain) touch(chain);
          break;
        }
        case 'deliver':
          writer.addDelivery(write.delivery, now);
          touch({ webhookId: write.delivery.webhookId, caseId: write.delivery.caseId });
          break;
        default: {
          const never: never = write;
          throw new Error(`unknown webhook write ${(never as Write).kind}`);
        }
      }
    }
    return [...touched.values()];
  }

  /** At most one checkpoint-only write a second; the last one owed is stored by a timer if nothing else comes. */
  private oweCheckpoint(position: number, now: number): void {
    this.owedCheckpoint = position;
    const wait = this.lastCheckpointAt + this.checkpointEveryMs - now;
    if (wait <= 0) this.flush();
    else this.checkpointTimer ??= setTimeout(() => this.flushLater(), wait).unref();
  }

  private flushLater(): void {
    this.checkpointTimer = undefined;
    try {
      this.flush();
    } catch {
      // The database was busy (or is closing): tried again a second later, or by the next batch.
      if (this.owedCheckpoint !== undefined) this.checkpointTimer = setTimeout(() => this.flushLater(), this.checkpointEveryMs).unref();
    }
  }

  private dropOwedCheckpoint(): void {
    clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.owedCheckpoint = undefined;
  }
}
