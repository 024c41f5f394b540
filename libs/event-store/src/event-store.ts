/**
 * The event store port. Adapters move typed envelopes; they know nothing of
 * what the events mean.
 *
 * Stream names are `<category>-<id>` (see `validateStreamName`); event ids are
 * UUIDs, compared and returned in lower case; the first event of a stream has
 * revision 0; `position` is global and strictly increasing across the store.
 */

/**
 * `'no_stream'`: the stream must not exist yet. `'any'`: no check.
 * `'stream_exists'`: the stream must have at least one event.
 * A number: the revision of the stream's last event (first event is 0).
 */
export type ExpectedRevision = 'no_stream' | 'any' | 'stream_exists' | number;

export interface NewEvent {
  /** A UUID chosen by the caller: appending the same ids again is how a retry stays idempotent. */
  id: string;
  type: string;
  /** Any JSON value. What is stored is its JSON form (a Date becomes its ISO string). */
  data: unknown;
  metadata: Record<string, unknown>;
}

export interface StoredEvent {
  id: string;
  streamName: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  /** Position in its stream, from 0. */
  revision: number;
  /** Global position, strictly increasing across the store; always > 0. */
  position: number;
  recordedAt: Date;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append: pass it as the next `expectedRevision`. */
  nextExpectedRevision: number;
  /** Global position of the last event appended. */
  position: number;
}

export interface ReadStreamOptions {
  /** First revision to return (default 0). */
  fromRevision?: number;
  /** At most this many events (default: all). */
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Return events strictly after this global position (default: from the start). */
  after?: number;
  /** Batch size (default `DEFAULT_READ_ALL_MAX_COUNT`). */
  maxCount?: number;
}

export const DEFAULT_READ_ALL_MAX_COUNT = 1000;

export interface SubscribeToAllOptions {
  /** Checkpoint: events strictly after this global position (default: from the start). */
  after?: number;
  /**
   * Only events of these types are yielded; the others are passed over
   * (an adapter may filter them before reading their data) and reported
   * through `onCheckpoint`. At least one type.
   */
  eventTypes?: readonly string[];
}

export interface EventStore {
  /**
   * Appends atomically, after checking `expectedRevision`. Rejects with
   * `ConcurrencyError` when the check fails (nothing written),
   * `InvalidEventError` / `InvalidStreamNameError` for malformed input,
   * `EventStoreUnavailableError` when the store cannot be reached.
   * Appending events whose ids are already the stream's events at the
   * positions this expected revision would give them is a no-op returning
   * the original result.
   */
  append(streamName: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  /** Events of one stream in revision order; `[]` for a stream that does not exist. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /** One batch, in global order, strictly after `after`; `[]` once the end is reached. */
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  /**
   * Every event strictly after the checkpoint `after` (from the start when
   * absent), in global order, then live, never skipping or repeating one.
   */
  subscribeToAll(options: SubscribeToAllOptions): EventSubscription;
  /** Position of the last event in the store, 0 when it is empty. */
  headPosition(): Promise<number>;
  /**
   * A durability barrier: resolves once everything a reader of this store
   * could have seen before the call (by any read, including events other
   * connections or processes appended) is on disk. Rejects with
   * `EventStoreUnavailableError` when that cannot be made so (the store
   * failed to sync, or is closed). Use it before acting outside the store
   * on what a read returned.
   */
  durable(): Promise<void>;
  /** Waits for pending appends, ends open subscriptions and releases the store. */
  close(): Promise<void>;
}

/**
 * Iterating: ends normally once the subscription is closed (by the consumer
 * or the store's `close()`); throws `SubscriptionDroppedError` when the store
 * ended it otherwise (connection lost, server dropped it, a read failed).
 */
export interface EventSubscription extends AsyncIterable<StoredEvent> {
  /**
   * Resolves once every event that existed when the subscription started has
   * been handed to the consumer; what follows is live.
   */
  readonly caughtUp: Promise<void>;
  /**
   * With `eventTypes`: `listener` hears the position the subscription has
   * reached whenever it passes over events of other types, once every event
   * it yielded before them has been taken (the consumer asked for the next
   * one). A consumer's checkpoint is then the later of that position and
   * its last event's. Without `eventTypes` nothing is passed over.
   */
  onCheckpoint(listener: (position: number) => void): void;
  /** Ends the iteration (a pending `next()` resolves as done). */
  close(): Promise<void>;
}
