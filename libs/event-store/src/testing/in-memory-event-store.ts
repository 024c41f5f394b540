import { randomUUID } from 'node:crypto';
import { ConcurrencyError } from '../errors';
import {
  DEFAULT_READ_ALL_MAX_COUNT,
  type AppendResult,
  type EventStore,
  type EventSubscription,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeToAllOptions,
} from '../event-store';

/**
 * The port's model in memory, for simulations that need many stores
 * quickly: expected revisions, idempotent retries of the same event ids,
 * global positions. Everything is durable the moment it is appended.
 * Subscriptions are not modelled (the simulations pull with `readAll`).
 */
export class InMemoryEventStore implements EventStore {
  private readonly log: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();

  async append(streamName: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    const stream = this.streams.get(streamName) ?? [];
    const current = stream.length - 1;
    const expected = options.expectedRevision;
    // The same ids where this expected revision would put them: a retry of an append that happened.
    const start = expected === 'no_stream' ? 0 : typeof expected === 'number' ? expected + 1 : -1;
    if (start >= 0 && events.length > 0 && events.every((e, i) => stream[start + i]?.id === e.id.toLowerCase())) {
      const last = stream[start + events.length - 1];
      return { nextExpectedRevision: last.revision, position: last.position };
    }
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && stream.length === 0) ||
      (expected === 'stream_exists' && stream.length > 0) ||
      (typeof expected === 'number' && expected === current);
    if (!ok) throw new ConcurrencyError(streamName, expected, current < 0 ? 'no_stream' : current);
    const recordedAt = new Date();
    for (const event of events) {
      const stored: StoredEvent = {
        id: event.id.toLowerCase(),
        streamName,
        type: event.type,
        data: JSON.parse(JSON.stringify(event.data ?? null)),
        metadata: JSON.parse(JSON.stringify(event.metadata ?? {})),
        revision: stream.length,
        position: this.log.length + 1,
        recordedAt,
      };
      stream.push(stored);
      this.log.push(stored);
    }
    this.streams.set(streamName, stream);
    const last = stream[stream.length - 1];
    return { nextExpectedRevision: last?.revision ?? current, position: last?.position ?? 0 };
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const from = options.fromRevision ?? 0;
    const events = (this.streams.get(streamName) ?? []).slice(from);
    return options.maxCount === undefined ? events : events.slice(0, options.maxCount);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const after = options.after ?? 0;
    return this.log.slice(after, after + (options.maxCount ?? DEFAULT_READ_ALL_MAX_COUNT));
  }

  subscribeToAll(_options: SubscribeToAllOptions): EventSubscription {
    throw new Error('InMemoryEventStore does not model subscriptions');
  }

  async headPosition(): Promise<number> {
    return this.log.length;
  }

  async durable(): Promise<void> {}

  async close(): Promise<void> {}

  /** A fresh id, for tests that build events by hand. */
  static eventId(): string {
    return randomUUID();
  }
}
