import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamDeletedError as ClientStreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type JSONType,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  ConcurrencyError,
  EventStoreError,
  EventStoreUnavailableError,
  StreamDeletedError,
  SubscriptionDroppedError,
} from './errors';
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
} from './event-store';
import { readOptions } from './read-options';
import { serializeEvents, validateExpectedRevision, validateStreamName } from './validation';

export type EventStoreDbEventStoreOptions =
  /** e.g. `esdb://localhost:2113?tls=false` */
  | { connectionString: string }
  /** A client made elsewhere; the store disposes of it on close. */
  | { client: EventStoreDBClient };

/*
 * Global positions. An event's place in `$all` is its commit position, a byte
 * offset in the server's transaction log. Events written through gRPC appends
 * are self-committed records, so each has its own commit position and its
 * prepare position equals it: the one number is a faithful, strictly
 * increasing checkpoint, and `{ commit: p, prepare: p }` rebuilds the
 * server's position from it. As a byte offset it stays below 2^53 (a JS
 * number's exact range) until the log holds 9 PB, which no deployment of
 * this system approaches.
 */
function toServerPosition(position: number): Position {
  const value = BigInt(position);
  return { commit: value, prepare: value };
}

// Readers older than server 22.6 report "no position" as 2^64 - 1.
const NO_POSITION = 2n ** 63n;

/**
 * The production store, on `@eventstore/db-client`. The server does the
 * work: expected revisions, idempotent retries (event ids are sent as the
 * events' ids), ordering. Needs a server of version 22.6 or later, which
 * reports each event's position when a stream is read.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly subscriptions = new Set<EventStoreDbSubscription>();
  private closed = false;

  constructor(options: EventStoreDbEventStoreOptions) {
    this.client =
      'client' in options ? options.client : EventStoreDBClient.connectionString(options.connectionString);
  }

  append(streamName: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    return this.track(async () => {
      validateStreamName(streamName);
      const expected = options?.expectedRevision;
      validateExpectedRevision(expected);
      // Validated here so both adapters refuse the same inputs; the client
      // serialises the (now known to be JSON-safe) values itself.
      const serialized = serializeEvents(events);
      const payload = events.map((event, i) =>
        jsonEvent({ id: serialized[i].id, type: event.type, data: event.data as JSONType, metadata: event.metadata }),
      );
      try {
        const result = await this.client.appendToStream(streamName, payload, {
          expectedRevision: toServerExpectedRevision(expected),
        });
        // A client made with throwOnAppendFailure=false reports a conflict
        // here instead of throwing; the revision it returns is the actual one.
        if (!result.success) {
          const actual = result.nextExpectedRevision < 0n ? 'no_stream' : Number(result.nextExpectedRevision);
          throw new ConcurrencyError(streamName, expected, actual);
        }
        const nextExpectedRevision = Number(result.nextExpectedRevision);
        // The server reports the commit position of the append's last record,
        // and none at all when it recognised an idempotent retry.
        const position = result.position
          ? Number(result.position.commit)
          : await this.positionOf(streamName, nextExpectedRevision);
        return { nextExpectedRevision, position };
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          const actual = error.actualVersion === NO_STREAM ? 'no_stream' : Number(error.actualVersion);
          throw new ConcurrencyError(streamName, expected, actual);
        }
        throw toStoreError(error, streamName);
      }
    });
  }

  readStream(streamName: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    return this.track(async () => {
      validateStreamName(streamName);
      const { fromRevision, maxCount } = readOptions.stream(options);
      const events: StoredEvent[] = [];
      try {
        const read = this.client.readStream(streamName, {
          direction: FORWARDS,
          fromRevision: BigInt(fromRevision),
          ...(maxCount === undefined ? {} : { maxCount }),
        });
        for await (const resolved of read) {
          const event = toStoredEvent(resolved);
          if (event) events.push(event);
        }
      } catch (error) {
        if (error instanceof StreamNotFoundError) return [];
        throw toStoreError(error, streamName);
      }
      return events;
    });
  }

  /**
   * `readAll` in this client takes no server-side filter, so system events
   * are skipped here while the cursor still moves past them, and pages are
   * read until the batch is full or the log ends: a page made only of system
   * events must not look like the end.
   */
  readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    return this.track(async () => {
      const { after, maxCount } = readOptions.all(options);
      const wanted = maxCount ?? DEFAULT_READ_ALL_MAX_COUNT;
      const events: StoredEvent[] = [];
      let cursor = after;
      try {
        for (;;) {
          // +1: reading forwards from a position includes the event at it.
          const pageSize = wanted - events.length + 1;
          let seen = 0;
          const read = this.client.readAll({
            direction: FORWARDS,
            fromPosition: cursor > 0 ? toServerPosition(cursor) : START,
            maxCount: pageSize,
          });
          for await (const resolved of read) {
            seen++;
            const position = positionOf(resolved);
            if (position === undefined || position <= cursor) continue;
            cursor = position;
            const event = toStoredEvent(resolved);
            if (event) events.push(event);
            if (events.length === wanted) break;
          }
          if (events.length === wanted || seen < pageSize) return events;
        }
      } catch (error) {
        throw toStoreError(error);
      }
    });
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): EventSubscription {
    if (this.closed) throw new EventStoreUnavailableError('The event store is closed');
    const { after, eventTypes } = readOptions.subscription(options);
    const subscription = new EventStoreDbSubscription(this.client, after, eventTypes, () => this.headPosition(), (closing) =>
      this.subscriptions.delete(closing),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  headPosition(): Promise<number> {
    return this.track(async () => {
      const pageSize = 100;
      let from: ReadPosition = END;
      try {
        for (;;) {
          let seen = 0;
          let oldest: Position | undefined;
          for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: pageSize })) {
            seen++;
            if (!resolved.event) continue;
            oldest = resolved.event.position;
            if (!isSystemEvent(resolved.event)) return Number(resolved.event.position.commit);
          }
          // Reading backwards from an event's position returns the events before it.
          if (seen < pageSize || oldest === undefined) return 0;
          from = oldest;
        }
      } catch (error) {
        throw toStoreError(error);
      }
    });
  }

  /**
   * Nothing to wait for: the server acknowledges an append only once it is
   * durable (on its disk, or a quorum's) and serves reads and subscriptions
   * only of acknowledged events, so whatever a reader could have seen is
   * durable already.
   */
  durable(): Promise<void> {
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('The event store is closed'));
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    await this.client.dispose();
  }

  private async positionOf(streamName: string, revision: number): Promise<number> {
    const read = this.client.readStream(streamName, { direction: FORWARDS, fromRevision: BigInt(revision), maxCount: 1 });
    for await (const resolved of read) {
      const event = toStoredEvent(resolved);
      if (event) return event.position;
    }
    throw new Error(`Stream ${streamName} has no event at revision ${revision} after a successful append`);
  }

  /** Refuses work after close and lets close wait for what is under way. */
  private track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('The event store is closed'));
    const running = operation();
    this.inFlight.add(running);
    const forget = (): void => {
      this.inFlight.delete(running);
    };
    running.then(forget, forget);
    return running;
  }
}

const CAUGHT_UP = Symbol('caught up');
const HIGH_WATER_MARK = 1000;
const LOW_WATER_MARK = 100;
/**
 * Events a filtered subscription's server looks through per read; with a
 * checkpoint interval of 1 it reports a checkpoint after each such window,
 * so a consumer's checkpoint moves past long stretches of other types.
 */
const MAX_SEARCH_WINDOW = 500;

/** A position the subscription went past without yielding its event (another type than asked for). */
interface PassedOver {
  passedOver: number;
}

type Control = PassedOver | typeof CAUGHT_UP;

/**
 * A catch-up subscription. The server filters: system events always, and
 * with `eventTypes` every other type too, reporting checkpoints as it reads
 * past them (`checkpointReached`). The client's `caughtUp` signal (servers
 * from 23.10) marks the end of history; with older servers the subscription
 * counts as caught up once it has delivered, or passed, the head position
 * read when it started. Events are queued as they arrive and the stream is
 * paused above a high-water mark, so a slow consumer does not buffer the
 * whole history.
 *
 * The client raises `caughtUp` and checkpoints as it parses the server's
 * messages, while events before them may still sit in its own buffer (up to
 * its high-water mark, more while paused): each such signal is held back
 * until as many events as were buffered at that moment have arrived.
 */
class EventStoreDbSubscription implements EventSubscription {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private rejectCaughtUp!: (error: Error) => void;
  private caughtUpSettled = false;
  private readonly queue: Array<StoredEvent | Control> = [];
  /** Signals waiting for the events the client still buffered ahead of them. */
  private readonly deferred: Array<{ ahead: number; item: Control }> = [];
  private readonly checkpointListeners: Array<(position: number) => void> = [];
  private stream: AllStreamSubscription | undefined;
  private headAtStart: number | undefined;
  private lastQueued: number;
  /** The furthest position handed to the consumer, as an event or a checkpoint. */
  private lastHanded: number;
  private failure: Error | undefined;
  private closed = false;
  private iterated = false;
  private wake: (() => void) | undefined;
  private readonly started: Promise<void>;

  constructor(
    client: EventStoreDBClient,
    after: number,
    /** Types to yield; the server sends no others. */
    private readonly eventTypes: ReadonlySet<string> | undefined,
    headPosition: () => Promise<number>,
    private readonly onClose: (subscription: EventStoreDbSubscription) => void,
  ) {
    this.lastQueued = after;
    this.lastHanded = after;
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.resolveCaughtUp = resolve;
      this.rejectCaughtUp = reject;
    });
    this.caughtUp.catch(() => undefined);
    this.started = this.start(client, after, headPosition);
  }

  onCheckpoint(listener: (position: number) => void): void {
    this.checkpointListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settleCaughtUp(new Error('The subscription was closed before it caught up'));
    this.onClose(this);
    this.signal();
    await this.started;
    await this.stream?.unsubscribe();
  }

  [Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    if (this.iterated) throw new Error('A subscription can be iterated only once');
    this.iterated = true;
    return this.events();
  }

  private async start(client: EventStoreDBClient, after: number, headPosition: () => Promise<number>): Promise<void> {
    try {
      // Read before subscribing: every event at or before it existed at the start.
      this.headAtStart = await headPosition();
      if (this.headAtStart <= after) this.settleCaughtUp();
      if (this.closed) return;
      const filter = this.eventTypes
        ? eventTypeFilter({
            regex: typesPattern(this.eventTypes),
            maxSearchWindow: MAX_SEARCH_WINDOW,
            checkpointInterval: 1,
            checkpointReached: (_subscription, position) => this.control({ passedOver: Number(position.commit) }),
          })
        : excludeSystemEvents();
      const stream = client.subscribeToAll({ fromPosition: after > 0 ? toServerPosition(after) : START, filter });
      this.stream = stream;
      stream.on('data', (resolved: AllStreamResolvedEvent) => {
        const position = positionOf(resolved);
        // Skipped defensively: the start position must never be delivered twice.
        if (position !== undefined && position > this.lastQueued) {
          this.lastQueued = position;
          try {
            const event = toStoredEvent(resolved);
            if (event) this.enqueue(event);
          } catch (error) {
            this.failure = error as Error;
            this.signal();
          }
        }
        this.arrived();
      });
      stream.on('caughtUp', () => this.control(CAUGHT_UP));
      stream.on('error', (error: Error) => {
        if (this.closed) return;
        this.failure = new SubscriptionDroppedError(error.message, toStoreError(error));
        this.signal();
      });
      stream.on('end', () => {
        if (this.closed) return;
        this.failure ??= new SubscriptionDroppedError('the server ended it');
        this.signal();
      });
    } catch (error) {
      const cause = toStoreError(error);
      this.failure = new SubscriptionDroppedError(cause instanceof Error ? cause.message : String(cause), cause);
      this.signal();
    }
  }

  private enqueue(item: StoredEvent | Control): void {
    this.queue.push(item);
    if (this.queue.length >= HIGH_WATER_MARK && this.stream && !this.stream.isPaused()) this.stream.pause();
    this.signal();
  }

  /** A signal from the client: queued behind the events its buffer still holds. */
  private control(item: Control): void {
    this.deferred.push({ ahead: this.stream?.readableLength ?? 0, item });
    this.releaseDeferred();
  }

  /** One buffered item came out of the client. */
  private arrived(): void {
    if (this.deferred.length === 0) return;
    for (const waiting of this.deferred) waiting.ahead--;
    this.releaseDeferred();
  }

  private releaseDeferred(): void {
    while (this.deferred.length > 0 && this.deferred[0].ahead <= 0) this.enqueue(this.deferred.shift()!.item);
  }

  private async *events(): AsyncGenerator<StoredEvent> {
    try {
      for (;;) {
        const item = this.queue.shift();
        if (item !== undefined) {
          if (this.stream?.isPaused() && this.queue.length <= LOW_WATER_MARK) this.stream.resume();
          if (item === CAUGHT_UP) {
            this.settleCaughtUp();
            continue;
          }
          if ('passedOver' in item) {
            // Reached only once the consumer asked for more: it has taken every event yielded before.
            if (item.passedOver > this.lastHanded) {
              this.lastHanded = item.passedOver;
              for (const listener of this.checkpointListeners) listener(item.passedOver);
            }
            if (this.headAtStart !== undefined && item.passedOver >= this.headAtStart) this.settleCaughtUp();
            continue;
          }
          this.lastHanded = item.position;
          yield item;
          // After the yield: the consumer has had the event when `caughtUp` resolves.
          if (this.headAtStart !== undefined && item.position >= this.headAtStart) this.settleCaughtUp();
          continue;
        }
        if (this.closed) return;
        if (this.failure) throw this.failure;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } catch (error) {
      this.settleCaughtUp(error as Error);
      throw error;
    } finally {
      await this.close();
    }
  }

  private settleCaughtUp(error?: Error): void {
    if (this.caughtUpSettled) return;
    this.caughtUpSettled = true;
    if (error) this.rejectCaughtUp(error);
    else this.resolveCaughtUp();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** A server-side regex matching exactly these event types. */
function typesPattern(types: ReadonlySet<string>): string {
  return `^(?:${[...types].map((type) => type.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})$`;
}

function toServerExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'no_stream':
      return NO_STREAM;
    case 'any':
      return ANY;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
}

type AnyResolvedEvent = ResolvedEvent | AllStreamResolvedEvent;

function positionOf(resolved: AnyResolvedEvent): number | undefined {
  const commit = resolved.event?.position?.commit ?? resolved.commitPosition;
  if (commit === undefined || commit >= NO_POSITION) return undefined;
  return Number(commit);
}

function isSystemEvent(event: { type: string; streamId: string }): boolean {
  // `$`-types cover links (`$>`), stream metadata and statistics; `$`-streams
  // cover the projections' own streams whatever their event types.
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/** `undefined` for system events, which callers of the port never see. */
function toStoredEvent(resolved: AnyResolvedEvent): StoredEvent | undefined {
  const event = resolved.event;
  if (!event || isSystemEvent(event)) return undefined;
  const position = positionOf(resolved);
  if (position === undefined) {
    throw new Error('EventStoreDB did not report the event position: a server of version 22.6 or later is needed');
  }
  const metadata = event.metadata;
  return {
    id: event.id,
    streamName: event.streamId,
    type: event.type,
    data: event.data,
    metadata: isPlainObject(metadata) ? metadata : {},
    revision: Number(event.revision),
    position,
    recordedAt: event.created,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

const UNAVAILABLE_TYPES = new Set<unknown>([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.NOT_LEADER,
]);
// gRPC status codes UNAVAILABLE and DEADLINE_EXCEEDED: an append that cannot
// connect fails with the raw gRPC error rather than the client's typed one.
const UNAVAILABLE_GRPC_CODES = new Set<unknown>([14, 4]);

function toStoreError(error: unknown, streamName?: string): unknown {
  if (error instanceof EventStoreError) return error;
  if (error instanceof ClientStreamDeletedError) return new StreamDeletedError(streamName ?? error.streamName);
  const { type, code } = (typeof error === 'object' && error !== null ? error : {}) as { type?: unknown; code?: unknown };
  const message = error instanceof Error ? error.message : String(error);
  if (
    UNAVAILABLE_TYPES.has(type) ||
    (type === undefined && UNAVAILABLE_GRPC_CODES.has(code)) ||
    // Cluster discovery gives up with a plain Error.
    message.startsWith('Failed to discover')
  ) {
    return new EventStoreUnavailableError(`EventStoreDB is unavailable: ${message}`, error);
  }
  return error;
}
