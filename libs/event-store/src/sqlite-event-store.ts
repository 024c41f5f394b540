import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConcurrencyError, DuplicateEventIdError, EventStoreUnavailableError } from './errors';
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
} from './event-store';
import { readOptions } from './read-options';
import { serializeEvents, validateExpectedRevision, validateStreamName, type SerializedEvent } from './validation';
import { PullSubscription } from './pull-subscription';

export interface SqliteEventStoreOptions {
  /** Database file; its folder is created when missing. Other components may keep their own tables in it. */
  path: string;
  /** How often a live subscription looks for events committed by another process on the same file. */
  pollIntervalMs?: number;
  /** How long a commit waits for another connection's write lock before the batch fails. */
  busyTimeoutMs?: number;
}

/** Counters that show group commit at work: `appends / batches` is the mean batch size. */
export interface GroupCommitStats {
  batches: number;
  appends: number;
  events: number;
  largestBatch: number;
}

interface PendingAppend {
  streamName: string;
  events: SerializedEvent[];
  expected: ExpectedRevision;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

type EventRow = [
  position: number,
  id: string,
  streamName: string,
  revision: number,
  type: string,
  data: string,
  metadata: string,
  recordedAt: number,
];
type ReplayRow = [id: string, revision: number, position: number];

const EVENT_COLUMNS =
  'global_position, event_id, stream_name, stream_revision, type, data, metadata, recorded_at';

// Tables are prefixed `es_` because the file is shared with read models and
// idempotency records; migrations are append-only and each runs once.
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE IF NOT EXISTS es_events (
        global_position INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id        TEXT    NOT NULL UNIQUE,
        stream_name     TEXT    NOT NULL,
        stream_revision INTEGER NOT NULL,
        type            TEXT    NOT NULL,
        data            TEXT    NOT NULL,
        metadata        TEXT    NOT NULL,
        recorded_at     INTEGER NOT NULL,
        UNIQUE (stream_name, stream_revision)
      );`,
  },
];

const SUBSCRIPTION_BATCH = 500;

/**
 * The embedded store: one SQLite file, WAL, `synchronous=FULL`, so an
 * acknowledged append survives a crash or power loss.
 *
 * Appends are group-committed: every append queued while the event loop is
 * busy is written in one transaction (one fsync) on the next `setImmediate`.
 * Each append is checked against its stream's revision inside that
 * transaction, so a later append in the batch sees an earlier one's events;
 * a refused append writes nothing and fails no other. Callers are resolved
 * only after COMMIT returned.
 *
 * Reusing an event id anywhere but in an idempotent retry rejects with
 * `DuplicateEventIdError`; when the expected revision is also stale, the
 * `ConcurrencyError` wins.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly pollIntervalMs: number;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly subscriptions = new Set<PullSubscription>();
  private readonly stats: GroupCommitStats = { batches: 0, appends: 0, events: 0, largestBatch: 0 };

  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly savepoint: Database.Statement;
  private readonly releaseSavepoint: Database.Statement;
  private readonly rollbackToSavepoint: Database.Statement;
  private readonly lastRevision: Database.Statement<[string], number | null>;
  private readonly insert: Database.Statement<[string, string, number, string, string, string, number]>;
  private readonly replayCandidates: Database.Statement<[string, number, number], ReplayRow>;
  private readonly eventById: Database.Statement<[string], [streamName: string, revision: number]>;
  private readonly streamEvents: Database.Statement<[string, number, number], EventRow>;
  private readonly eventsAfter: Database.Statement<[number, number], EventRow>;
  private readonly lastPosition: Database.Statement<[], number>;

  constructor(options: SqliteEventStoreOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.migrate();
    } catch (error) {
      this.db.close();
      throw error;
    }

    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    this.savepoint = this.db.prepare('SAVEPOINT es_append');
    this.releaseSavepoint = this.db.prepare('RELEASE es_append');
    this.rollbackToSavepoint = this.db.prepare('ROLLBACK TO es_append');
    // MAX over the (stream_name, stream_revision) index is one b-tree descent.
    this.lastRevision = this.db
      .prepare<[string], number | null>('SELECT MAX(stream_revision) FROM es_events WHERE stream_name = ?')
      .pluck();
    this.insert = this.db.prepare(
      'INSERT INTO es_events (event_id, stream_name, stream_revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.replayCandidates = this.db
      .prepare<[string, number, number], ReplayRow>(
        'SELECT event_id, stream_revision, global_position FROM es_events WHERE stream_name = ? AND stream_revision >= ? ORDER BY stream_revision LIMIT ?',
      )
      .raw();
    this.eventById = this.db
      .prepare<[string], [string, number]>('SELECT stream_name, stream_revision FROM es_events WHERE event_id = ?')
      .raw();
    this.streamEvents = this.db
      .prepare<[string, number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM es_events WHERE stream_name = ? AND stream_revision >= ? ORDER BY stream_revision LIMIT ?`,
      )
      .raw();
    this.eventsAfter = this.db
      .prepare<[number, number], EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM es_events WHERE global_position > ? ORDER BY global_position LIMIT ?`,
      )
      .raw();
    this.lastPosition = this.db
      .prepare<[], number>('SELECT global_position FROM es_events ORDER BY global_position DESC LIMIT 1')
      .pluck();
  }

  append(streamName: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    let serialized: SerializedEvent[];
    try {
      if (this.closed) throw new EventStoreUnavailableError('The event store is closed');
      validateStreamName(streamName);
      validateExpectedRevision(options?.expectedRevision);
      serialized = serializeEvents(events);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamName, events: serialized, expected: options.expectedRevision, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate rather than a microtask: callers woken by the previous
        // commit, and I/O callbacks due now, still join this batch.
        setImmediate(this.flush);
      }
    });
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    validateStreamName(streamName);
    const { fromRevision, maxCount } = readOptions.stream(options);
    return toStoredEvents(this.streamEvents.all(streamName, fromRevision, maxCount ?? -1));
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const { after, maxCount } = readOptions.all(options);
    return this.readAfter(after, maxCount ?? DEFAULT_READ_ALL_MAX_COUNT);
  }

  subscribeToAll(options: { after?: number } = {}): EventSubscription {
    this.assertOpen();
    const { after } = readOptions.all(options);
    const subscription = new PullSubscription({
      after,
      batchSize: SUBSCRIPTION_BATCH,
      pollIntervalMs: this.pollIntervalMs,
      read: (position, maxCount) => this.readAfter(position, maxCount),
      onClose: (closing) => this.subscriptions.delete(closing),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.lastPosition.get() ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.queue.length > 0) this.flush();
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.db.close();
  }

  /** A copy of the group-commit counters since this instance opened. */
  groupCommitStats(): GroupCommitStats {
    return { ...this.stats };
  }

  private readAfter(position: number, maxCount: number): StoredEvent[] {
    return toStoredEvents(this.eventsAfter.all(position, maxCount));
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailableError('The event store is closed');
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];

    const outcomes: Array<AppendResult | Error> = new Array(batch.length);
    const recordedAt = Date.now();
    try {
      this.begin.run();
      try {
        for (let i = 0; i < batch.length; i++) outcomes[i] = this.applyAppend(batch[i], recordedAt);
        this.commit.run();
      } catch (error) {
        if (this.db.inTransaction) this.rollback.run();
        throw error;
      }
    } catch (error) {
      const failure = new EventStoreUnavailableError('SQLite could not commit the batch of appends', error);
      for (const pending of batch) pending.reject(failure);
      return;
    }

    let written = false;
    this.stats.batches++;
    this.stats.appends += batch.length;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      if (outcome instanceof Error) {
        batch[i].reject(outcome);
      } else {
        written = true;
        this.stats.events += batch[i].events.length;
        batch[i].resolve(outcome);
      }
    }
    if (written) for (const subscription of this.subscriptions) subscription.notify();
  };

  /**
   * Runs inside the batch transaction. Returns the refusal instead of throwing
   * it, so one caller's conflict never aborts the others; anything thrown is
   * a storage failure that fails the whole batch.
   */
  private applyAppend(pending: PendingAppend, recordedAt: number): AppendResult | Error {
    const { streamName, events, expected } = pending;
    const current = this.lastRevision.get(streamName) ?? -1;
    const matches =
      expected === 'any' ||
      (expected === 'no_stream' && current === -1) ||
      (expected === 'stream_exists' && current >= 0) ||
      expected === current;

    if (!matches) {
      if (typeof expected === 'number' || expected === 'no_stream') {
        const replayed = this.replayedResult(streamName, expected === 'no_stream' ? 0 : expected + 1, events);
        if (replayed) return replayed;
      }
      return new ConcurrencyError(streamName, expected, current === -1 ? 'no_stream' : current);
    }

    // A single INSERT that fails is undone by SQLite on its own; several
    // need a savepoint so a refused append leaves none of its rows behind.
    const several = events.length > 1;
    if (several) this.savepoint.run();
    try {
      let revision = current;
      let position = 0;
      for (const event of events) {
        revision++;
        const { lastInsertRowid } = this.insert.run(
          event.id,
          streamName,
          revision,
          event.type,
          event.data,
          event.metadata,
          recordedAt,
        );
        position = Number(lastInsertRowid);
      }
      if (several) this.releaseSavepoint.run();
      return { nextExpectedRevision: revision, position };
    } catch (error) {
      if (several) {
        this.rollbackToSavepoint.run();
        this.releaseSavepoint.run();
      }
      if (!isUniqueViolation(error)) throw error;
      return this.refuseDuplicate(streamName, events, expected);
    }
  }

  /** With `any` or `stream_exists` a retried append is recognised by where its first id already sits. */
  private refuseDuplicate(streamName: string, events: SerializedEvent[], expected: ExpectedRevision): AppendResult | Error {
    const first = expected === 'any' || expected === 'stream_exists' ? this.eventById.get(events[0].id) : undefined;
    if (first && first[0] === streamName) {
      const replayed = this.replayedResult(streamName, first[1], events);
      if (replayed) return replayed;
    }
    const taken = events.find((event) => this.eventById.get(event.id) !== undefined) ?? events[0];
    return new DuplicateEventIdError(streamName, taken.id);
  }

  /** The original result when `events` are already the stream's events from `fromRevision` on. */
  private replayedResult(streamName: string, fromRevision: number, events: SerializedEvent[]): AppendResult | undefined {
    const rows = this.replayCandidates.all(streamName, fromRevision, events.length);
    if (rows.length !== events.length) return undefined;
    for (let i = 0; i < rows.length; i++) if (rows[i][0] !== events[i].id) return undefined;
    const last = rows[rows.length - 1];
    return { nextExpectedRevision: last[1], position: last[2] };
  }

  private migrate(): void {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS es_schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
    // IMMEDIATE: two processes opening a fresh file at once must not both migrate.
    const applyPending = this.db.transaction(() => {
      const applied = new Set(
        this.db.prepare<[], number>('SELECT version FROM es_schema_migrations').pluck().all(),
      );
      const record = this.db.prepare('INSERT INTO es_schema_migrations (version, applied_at) VALUES (?, ?)');
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        this.db.exec(migration.sql);
        record.run(migration.version, Date.now());
      }
    });
    applyPending.immediate();
  }
}

// Rows come back as arrays (`raw()`), cheaper than objects, and are turned
// into events in place: reading the log is the hot path of every rebuild.
function toStoredEvents(rows: EventRow[]): StoredEvent[] {
  const events = rows as unknown as StoredEvent[];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    events[i] = {
      id: row[1],
      streamName: row[2],
      type: row[4],
      data: JSON.parse(row[5]),
      metadata: JSON.parse(row[6]),
      revision: row[3],
      position: row[0],
      recordedAt: new Date(row[7]),
    };
  }
  return events;
}

// By code, not `instanceof Database.SqliteError`: the native addon keeps the
// error class of the first copy of better-sqlite3 loaded in the process, and
// a fresh module registry (Jest's, per test file) loads another copy.
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
