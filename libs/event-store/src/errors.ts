import type { ExpectedRevision } from './event-store';

/**
 * Every error the store raises on purpose carries a stable `code`, so callers
 * branch on it (or on `instanceof`) and never parse messages.
 */
export abstract class EventStoreError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The stream's revision is not the one the caller expected. Nothing was written. */
export class ConcurrencyError extends EventStoreError {
  readonly code = 'CONCURRENCY_CONFLICT';

  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** Revision of the stream's last event, or `'no_stream'` when it has none. */
    readonly actual: number | 'no_stream',
  ) {
    super(`Stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/**
 * An event id already stored elsewhere (another stream, or other positions
 * of this stream than the retried append would give it). Nothing was written.
 */
export class DuplicateEventIdError extends EventStoreError {
  readonly code = 'DUPLICATE_EVENT_ID';

  constructor(
    readonly stream: string,
    readonly eventId: string,
  ) {
    super(`Stream ${stream}: event id ${eventId} is already stored`);
  }
}

export class InvalidEventError extends EventStoreError {
  readonly code = 'INVALID_EVENT';

  constructor(
    readonly reason: string,
    /** Index of the offending event in the append, when one event is at fault. */
    readonly index?: number,
  ) {
    super(index === undefined ? `Invalid events: ${reason}` : `Invalid event #${index}: ${reason}`);
  }
}

export class InvalidStreamNameError extends EventStoreError {
  readonly code = 'INVALID_STREAM_NAME';

  constructor(readonly streamName: unknown) {
    super(
      `Invalid stream name ${JSON.stringify(String(streamName))}: expected <category>-<id>, ` +
        'category [a-z][A-Za-z0-9]{0,63}, id 1-128 of [A-Za-z0-9_-]',
    );
  }
}

/** The store cannot be reached or cannot commit right now; the operation may be retried. */
export class EventStoreUnavailableError extends EventStoreError {
  readonly code = 'EVENT_STORE_UNAVAILABLE';

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** The stream was deleted (tombstoned) in the store: it can be neither read nor appended to. */
export class StreamDeletedError extends EventStoreError {
  readonly code = 'STREAM_DELETED';

  constructor(readonly stream: string) {
    super(`Stream ${stream} is deleted`);
  }
}

/**
 * A subscription's iterator throws this when the store ended the
 * subscription (a lost connection, a server that dropped it, a read that
 * failed), so a consumer can resubscribe from its checkpoint. A subscription
 * the consumer or the store's `close()` ended finishes normally instead.
 */
export class SubscriptionDroppedError extends EventStoreError {
  readonly code = 'SUBSCRIPTION_DROPPED';

  constructor(reason: string, cause?: unknown) {
    super(`The subscription was dropped: ${reason}`, cause === undefined ? undefined : { cause });
  }
}
