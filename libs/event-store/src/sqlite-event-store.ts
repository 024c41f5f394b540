import Database from 'better-sqlite3';
import fs from 'node:fs';
import { dirname, resolve } from 'node:path';
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
  type SubscribeToAllOptions,
} from './event-store';
import { readOptions } from './read-options';
import { serializeEvents, validateExpectedRevision, validateStreamName, type SerializedEvent } from './validation';
import { LogTail } from './log-tail';
import { PullSubscription } from './pull-subscription';
import { SiblingCommits } from './sibling-commits';
import { WalCheckpointer } from './wal-checkpointer';
import { WalFileSync } from './wal-file-sync';

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

/** An append's result inside the store; `replayed`: an idempotent retry of events written earlier. */
interface Applied extends AppendResult {
  replayed: boolean;
}

/** A committed batch whose callers wait for the fsync of the write-ahead log. */
interface CommittedBatch {
  pending: PendingAppend[];
  outcomes: Array<Applied | Error>;
  /** Global position of the batch's first new event (Infinity: it wrote none). */
  firstPosition: number;
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
/** How many positions of the log a filtered subscription looks through per read. */
const SCAN_WINDOW = 10_000;
/**
 * Subscriptions that read within this many positions of the head, while two
 * or more are open, read through the shared tail (LogTail); further back,
 * each reads the log itself.
 */
const TAIL_WINDOW = 2_000;
/** Events the shared tail keeps. */
const TAIL_CAPACITY = 8_192;
/** Streams whose last revision is remembered; forgotten all at once beyond this (a miss only costs a query). */
const KNOWN_TAILS = 100_000;
const NO_CAP = Number.MAX_SAFE_INTEGER;
/** How often the checkpointer thread copies the log into the database while appends come in. */
const CHECKPOINT_INTERVAL_MS = 200;
/**
 * SQLite's own checkpoint, inside a COMMIT on the event loop, only as a
 * backstop should the checkpointer thread stop (pages of the log: 10,000 is
 * about 40 MB).
 */
const BACKSTOP_AUTOCHECKPOINT_PAGES = 10_000;
/**
 * At most one wake-up of this store's subscriptions per this interval: a
 * busy store commits every millisecond or two, and each wake-up is a read
 * of the log (the parcel index's follower cost the API's event loop about
 * 3 %). A commit after a quiet spell is told at once.
 */
const TELL_SUBSCRIPTIONS_MS = 5;
/** How soon appends that found the write lock taken try again. */
const LOCK_RETRY_MS = 1;
/** Page cache per connection (KiB): the indexes of a busy store stay in memory rather than in the OS cache. */
const CACHE_KIB = 65_536;

/**
 * The embedded store: one SQLite file in WAL mode; an acknowledged append
 * survives a crash or power loss.
 *
 * Appends are group-committed: every append queued while the event loop is
 * busy is written in one transaction on the next `setImmediate`. Each append
 * is checked against its stream's revision inside that transaction, so a
 * later append in the batch sees an earlier one's events; a refused append
 * writes nothing and fails no other.
 *
 * Durability: the connection commits with `synchronous=NORMAL` (no fsync
 * inside COMMIT) and the store then fsyncs the write-ahead log itself, on
 * libuv's thread pool, before it resolves the batch's callers: the same
 * guarantee as `synchronous=FULL` (which is NORMAL plus an fsync of the WAL
 * after each commit), without blocking the event loop for the disk. One fsync
 * is in flight at a time; batches committed meanwhile share the next one.
 * Until its fsync returns, a batch is visible to `readStream` (the next
 * decision must see it, and its own fsync comes later still), but not to
 * `readAll`, `headPosition` or subscriptions, so projections never take in
 * an event that a power loss could still take back. A failed fsync is never
 * retried (the kernel may have dropped the dirty pages): the store refuses
 * every append from then on and the process has to restart. Copying the log
 * back into the database (a checkpoint, with two more fsyncs) is done by a
 * thread of its own too (WalCheckpointer).
 *
 * Stream reads skip SQLite when they cannot find anything: the store knows
 * the last revision of streams it appended to or read, and forgets them all
 * when another connection (another process on the file) appends events:
 * `PRAGMA data_version` says another connection committed, and the log's
 * head, or a gap before this connection's own next events, says whether
 * that commit held events.
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
  /**
   * Other instances on the same file in this process (the roles `npm start`
   * runs in threads of their own) hear of a durable commit within a few
   * milliseconds instead of at their next poll; other processes still find
   * it by polling.
   */
  private readonly siblings: SiblingCommits;
  /** Subscriptions are told of durable commits at most once per TELL_SUBSCRIPTIONS_MS: this is when they were last told. */
  private subscriptionsToldAt = Number.NEGATIVE_INFINITY;
  private subscriptionsDue: NodeJS.Timeout | undefined;
  private readonly tellSubscriptions = (): void => {
    this.subscriptionsDue = undefined;
    this.subscriptionsToldAt = performance.now();
    for (const subscription of this.subscriptions) subscription.notify();
  };
  private readonly checkpointer: WalCheckpointer;
  private readonly walSync: WalFileSync;
  /** Committed batches whose callers wait for an fsync of the log, oldest first. */
  private awaitingFsync: CommittedBatch[] = [];
  /** Settles (never rejects) once the last committed batch is answered; batches are answered in order. */
  private lastBatchAnswered: Promise<void> = Promise.resolve();
  private durabilityFailure: EventStoreUnavailableError | undefined;
  /** Upper bounds of streams' last revisions: valid while no other connection appends. */
  private readonly knownTails = new Map<string, number>();
  /** The log's head as far as `knownTails` go: every event up to it is accounted for. */
  private knownHead = 0;
  private seenDataVersion = -1;
  private dataVersionChecked = false;
  private readonly forgetDataVersionCheck = (): void => {
    this.dataVersionChecked = false;
  };
  private readonly stats: GroupCommitStats = { batches: 0, appends: 0, events: 0, largestBatch: 0 };
  /** The newest events as this instance's subscriptions last read them, read and parsed once for all of them. */
  private readonly tail = new LogTail<EventRow>(TAIL_CAPACITY, {
    position: (row) => row[0],
    type: (row) => row[4],
    toEvent: (row) => toStoredEvent(row),
  });

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
  private readonly eventsAfter: Database.Statement<[number, number, number], EventRow>;
  /** Reads of the log filtered by type, one statement per number of types (`type IN (?, ?, ...)`). */
  private readonly eventsOfTypesBetween = new Map<number, Database.Statement<unknown[], EventRow>>();
  private readonly lastPosition: Database.Statement<[], number>;
  private readonly dataVersion: Database.Statement<[], number>;
  private readonly busyTimeoutMs: number;
  /** Since when queued appends have found the write lock taken (Date.now()). */
  private lockWaitSince: number | undefined;

  constructor(options: SqliteEventStoreOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    fs.mkdirSync(dirname(options.path), { recursive: true });
    this.siblings = new SiblingCommits(`aftersales-event-store:${resolve(options.path)}`, () => {
      for (const subscription of this.subscriptions) subscription.notify();
    });
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.db = new Database(options.path, { timeout: this.busyTimeoutMs });
    this.walSync = new WalFileSync(options.path);
    try {
      this.db.pragma('journal_mode = WAL');
      // The fsync that FULL would add to every COMMIT is made off the event loop (see the class comment).
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
      this.db.pragma(`cache_size = -${CACHE_KIB}`);
      this.migrate();
    } catch (error) {
      this.db.close();
      this.siblings.close();
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
        `SELECT ${EVENT_COLUMNS} FROM es_events WHERE global_position > ? AND global_position <= ? ORDER BY global_position LIMIT ?`,
      )
      .raw();
    this.lastPosition = this.db
      .prepare<[], number>('SELECT global_position FROM es_events ORDER BY global_position DESC LIMIT 1')
      .pluck();
    this.dataVersion = this.db.prepare<[], number>('PRAGMA data_version').pluck();
    this.seenDataVersion = this.dataVersion.get() as number;
    this.knownHead = this.lastPosition.get() ?? 0;
    this.checkpointer = new WalCheckpointer(options.path, CHECKPOINT_INTERVAL_MS);
  }

  append(streamName: string, events: NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    let serialized: SerializedEvent[];
    try {
      if (this.closed) throw new EventStoreUnavailableError('The event store is closed');
      if (this.durabilityFailure) throw this.durabilityFailure;
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
    this.forgetTailsIfOthersAppended();
    const tail = this.knownTails.get(streamName);
    if (tail !== undefined && fromRevision > tail) return [];
    const events = toStoredEvents(this.streamEvents.all(streamName, fromRevision, maxCount ?? -1));
    // Without a limit the read reached the stream's end; an empty one only shows the end lies before fromRevision.
    if (maxCount === undefined) this.rememberTail(streamName, events.length > 0 ? events[events.length - 1].revision : fromRevision - 1);
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const { after, maxCount } = readOptions.all(options);
    return this.readAfter(after, maxCount ?? DEFAULT_READ_ALL_MAX_COUNT);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): EventSubscription {
    this.assertOpen();
    const { after, eventTypes } = readOptions.subscription(options);
    const types = eventTypes ? [...new Set(eventTypes)] : undefined;
    const typeSet = types ? new Set(types) : undefined;
    const subscription = new PullSubscription({
      after,
      batchSize: SUBSCRIPTION_BATCH,
      pollIntervalMs: this.pollIntervalMs,
      read: (position, maxCount) =>
        this.readFromTail(position, typeSet, maxCount) ??
        (types ? this.readTypesAfter(position, types, maxCount) : this.readAllAfter(position, maxCount)),
      onClose: (closing) => {
        this.subscriptions.delete(closing);
        this.siblings.listen(this.subscriptions.size > 0);
      },
    });
    this.subscriptions.add(subscription);
    this.siblings.listen(true);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    // Health reports this: a store that refuses appends is not healthy.
    if (this.durabilityFailure) throw this.durabilityFailure;
    return Math.min(this.lastPosition.get() ?? 0, this.durableCap());
  }

  /**
   * Waits for an fsync of the write-ahead log that starts after this call:
   * it covers every commit made before it, this store's (including batches
   * `readStream` already shows) and other connections' to the same file.
   */
  durable(): Promise<void> {
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('The event store is closed'));
    if (this.durabilityFailure) return Promise.reject(this.durabilityFailure);
    return this.walSync.sync().catch((error: unknown) => {
      this.failDurability(error);
      throw this.durabilityFailure;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.queue.length > 0) this.flushQueue(true);
    // Callers already queued are answered only once their events are on disk.
    await this.lastBatchAnswered;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.siblings.close();
    clearTimeout(this.subscriptionsDue);
    await this.checkpointer.close();
    this.db.close();
    await this.walSync.close();
  }

  /** A copy of the group-commit counters since this instance opened. */
  groupCommitStats(): GroupCommitStats {
    return { ...this.stats };
  }

  private readAfter(position: number, maxCount: number): StoredEvent[] {
    return toStoredEvents(this.eventsAfter.all(position, this.durableCap(), maxCount));
  }

  private readAllAfter(position: number, maxCount: number): { events: StoredEvent[]; scannedTo: number; reachedEnd: boolean } {
    const events = this.readAfter(position, maxCount);
    return { events, scannedTo: events.length > 0 ? events[events.length - 1].position : position, reachedEnd: events.length < maxCount };
  }

  /**
   * A subscription's read answered from the shared tail, extended to the
   * head first; undefined when the tail is not for it (fewer than two
   * subscriptions, or a read further back than TAIL_WINDOW or before the
   * tail's start): then it reads the log itself.
   */
  private readFromTail(
    position: number,
    types: ReadonlySet<string> | undefined,
    maxCount: number,
  ): { events: StoredEvent[]; scannedTo: number; reachedEnd: boolean } | undefined {
    if (this.subscriptions.size < 2) return undefined;
    const head = Math.min(this.lastPosition.get() ?? 0, this.durableCap());
    if (position > head || head - position > TAIL_WINDOW) return undefined;
    const tail = this.tail;
    if (!tail.empty && position < tail.start) return undefined;
    if (tail.empty || (position > tail.end && head - tail.end > TAIL_WINDOW)) tail.restartAt(position);
    if (tail.end < head) {
      const rows = this.eventsAfter.all(tail.end, head, TAIL_WINDOW);
      tail.extend(rows, rows.length === TAIL_WINDOW ? rows[rows.length - 1][0] : head);
    }
    if (position > tail.end) return undefined;
    return tail.read(position, types, maxCount, head);
  }

  /**
   * Events of the given types after `position`, looking at no more than
   * SCAN_WINDOW positions of the log at a time, so a sparse filter over a
   * long history never holds the event loop for long. Rows of other types
   * are passed over without their data being read into JavaScript.
   */
  private readTypesAfter(position: number, types: readonly string[], maxCount: number): { events: StoredEvent[]; scannedTo: number; reachedEnd: boolean } {
    const head = Math.min(this.lastPosition.get() ?? 0, this.durableCap());
    const upTo = Math.min(head, position + SCAN_WINDOW);
    if (upTo <= position) return { events: [], scannedTo: position, reachedEnd: true };
    const events = toStoredEvents(this.typesStatement(types.length).all(position, upTo, ...types, maxCount));
    const full = events.length === maxCount;
    return { events, scannedTo: full ? events[events.length - 1].position : upTo, reachedEnd: !full && upTo === head };
  }

  /**
   * The types as parameters of their own (`IN (?, ?, ?)`) rather than one
   * JSON array read through `json_each`: the list is then not parsed into a
   * temporary table on every read (a quarter of a small read's time).
   */
  private typesStatement(count: number): Database.Statement<unknown[], EventRow> {
    let statement = this.eventsOfTypesBetween.get(count);
    if (!statement) {
      statement = this.db
        .prepare<unknown[], EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM es_events WHERE global_position > ? AND global_position <= ? AND type IN (${Array(count).fill('?').join(', ')}) ORDER BY global_position LIMIT ?`,
        )
        .raw();
      this.eventsOfTypesBetween.set(count, statement);
    }
    return statement;
  }

  /**
   * The last global position readers of the whole log may see: below the
   * first event of this process's oldest batch still waiting for its fsync
   * that wrote any (a batch of refused or replayed appends wrote none).
   */
  private durableCap(): number {
    for (const batch of this.awaitingFsync) if (batch.firstPosition !== Infinity) return batch.firstPosition - 1;
    return NO_CAP;
  }

  /**
   * `PRAGMA data_version` changes when another connection commits anything;
   * only new events (a head this connection does not know) make the tails
   * stale. Other tables in the file (idempotency records, the parcel index)
   * change without costing the tails.
   */
  private forgetTailsIfOthersAppended(): void {
    // Once per turn of the event loop: every read in one turn sees the file as
    // of that turn's first check. A read is only a snapshot anyway, and the
    // writes decided on it carry expected revisions.
    if (this.dataVersionChecked) return;
    this.dataVersionChecked = true;
    setImmediate(this.forgetDataVersionCheck);
    const version = this.dataVersion.get() as number;
    if (version === this.seenDataVersion) return;
    this.seenDataVersion = version;
    const head = this.lastPosition.get() ?? 0;
    if (head !== this.knownHead) {
      this.knownTails.clear();
      this.knownHead = head;
    }
  }

  private rememberTail(streamName: string, revision: number): void {
    if (this.knownTails.size >= KNOWN_TAILS && !this.knownTails.has(streamName)) this.knownTails.clear();
    this.knownTails.set(streamName, revision);
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreUnavailableError('The event store is closed');
  }

  private readonly flush = (): void => this.flushQueue(false);

  /**
   * Commits what is queued. Unless `waitForLock`, a write lock another
   * connection holds (another thread's or process's commit) is not waited
   * for on the event loop, which SQLite's busy handler would do by sleeping
   * the thread (1 ms, 2 ms, 5 ms...): the batch stays queued, gathering
   * more appends, and is tried again a millisecond later, up to the busy
   * timeout, after which the wait is SQLite's as before.
   */
  private flushQueue(waitForLock: boolean): void {
    this.flushScheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    if (this.durabilityFailure) {
      this.queue = [];
      for (const pending of batch) pending.reject(this.durabilityFailure);
      return;
    }
    let begun: boolean;
    try {
      begun = this.beginIfFree(waitForLock);
    } catch (error) {
      this.queue = [];
      this.lockWaitSince = undefined;
      this.knownTails.clear();
      const failure = new EventStoreUnavailableError('SQLite could not commit the batch of appends', error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    if (!begun) {
      this.flushScheduled = true;
      setTimeout(this.flush, LOCK_RETRY_MS);
      return;
    }
    this.lockWaitSince = undefined;
    this.queue = [];

    const outcomes: Array<Applied | Error> = new Array(batch.length);
    const recordedAt = Date.now();
    try {
      try {
        for (let i = 0; i < batch.length; i++) outcomes[i] = this.applyAppend(batch[i], recordedAt);
        this.commit.run();
      } catch (error) {
        if (this.db.inTransaction) this.rollback.run();
        throw error;
      }
    } catch (error) {
      // Tails learned inside the failed transaction may be wrong.
      this.knownTails.clear();
      const failure = new EventStoreUnavailableError('SQLite could not commit the batch of appends', error);
      for (const pending of batch) pending.reject(failure);
      return;
    }

    let firstPosition = Infinity;
    let lastPosition = 0;
    this.stats.batches++;
    this.stats.appends += batch.length;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      if (outcome instanceof Error || outcome.replayed) continue;
      // An append's events are consecutive: nobody else writes inside this transaction.
      const first = outcome.position - batch[i].events.length + 1;
      if (first < firstPosition) firstPosition = first;
      if (outcome.position > lastPosition) lastPosition = outcome.position;
    }
    if (firstPosition !== Infinity) {
      // Positions are handed out in order: a gap before this batch's first
      // event is another connection's events, which may extend known streams.
      if (firstPosition !== this.knownHead + 1) this.knownTails.clear();
      this.knownHead = lastPosition;
    }
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      if (outcome instanceof Error) continue;
      this.stats.events += batch[i].events.length;
      // A replayed append's revision may lie anywhere in the stream, not at its end.
      if (!outcome.replayed) this.rememberTail(batch[i].streamName, outcome.nextExpectedRevision);
    }
    const committed: CommittedBatch = { pending: batch, outcomes, firstPosition };
    this.awaitingFsync.push(committed);
    this.checkpointer.committed();
    // One fsync runs at a time; batches committed meanwhile share the next one.
    this.lastBatchAnswered = this.walSync.sync().then(
      () => this.answerDurable(committed),
      (error: unknown) => this.failDurability(error),
    );
  }

  /** BEGIN IMMEDIATE; false, with nothing begun, when another connection holds the write lock and waiting is not asked for (yet). */
  private beginIfFree(waitForLock: boolean): boolean {
    const waitedMs = this.lockWaitSince === undefined ? 0 : Date.now() - this.lockWaitSince;
    if (waitForLock || waitedMs >= this.busyTimeoutMs) {
      this.begin.run();
      return true;
    }
    // Run, not prepared: SQLite applies this pragma when the statement is compiled (about 1 µs each way).
    this.db.exec('PRAGMA busy_timeout = 0');
    try {
      this.begin.run();
      return true;
    } catch (error) {
      if (!isBusy(error)) throw error;
      this.lockWaitSince ??= Date.now();
      return false;
    } finally {
      this.db.exec(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /** The batch is on disk: its callers get their results and subscriptions may read it. */
  private answerDurable(committed: CommittedBatch): void {
    const index = this.awaitingFsync.indexOf(committed);
    if (index === -1) return; // already failed
    this.awaitingFsync.splice(index, 1);
    const { pending, outcomes } = committed;
    let written = false;
    for (let i = 0; i < pending.length; i++) {
      const outcome = outcomes[i];
      if (outcome instanceof Error) {
        pending[i].reject(outcome);
      } else {
        written = true;
        pending[i].resolve({ nextExpectedRevision: outcome.nextExpectedRevision, position: outcome.position });
      }
    }
    if (!written) return;
    this.siblings.committed();
    if (this.subscriptionsDue) return;
    const wait = this.subscriptionsToldAt + TELL_SUBSCRIPTIONS_MS - performance.now();
    if (wait <= 0) this.tellSubscriptions();
    else this.subscriptionsDue = setTimeout(this.tellSubscriptions, wait);
  }

  /** The kernel may have dropped what it could not write: nothing after this is trusted to be durable. */
  private failDurability(cause: unknown): void {
    this.durabilityFailure ??= new EventStoreUnavailableError('fsync of the SQLite write-ahead log failed; appends are refused until the process restarts', cause);
    for (const { pending } of this.awaitingFsync.splice(0)) for (const waiting of pending) waiting.reject(this.durabilityFailure);
  }

  /**
   * Runs inside the batch transaction. Returns the refusal instead of throwing
   * it, so one caller's conflict never aborts the others; anything thrown is
   * a storage failure that fails the whole batch.
   */
  private applyAppend(pending: PendingAppend, recordedAt: number): Applied | Error {
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
      return { nextExpectedRevision: revision, position, replayed: false };
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
  private refuseDuplicate(streamName: string, events: SerializedEvent[], expected: ExpectedRevision): Applied | Error {
    const first = expected === 'any' || expected === 'stream_exists' ? this.eventById.get(events[0].id) : undefined;
    if (first && first[0] === streamName) {
      const replayed = this.replayedResult(streamName, first[1], events);
      if (replayed) return replayed;
    }
    const taken = events.find((event) => this.eventById.get(event.id) !== undefined) ?? events[0];
    return new DuplicateEventIdError(streamName, taken.id);
  }

  /** The original result when `events` are already the stream's events from `fromRevision` on. */
  private replayedResult(streamName: string, fromRevision: number, events: SerializedEvent[]): Applied | undefined {
    const rows = this.replayCandidates.all(streamName, fromRevision, events.length);
    if (rows.length !== events.length) return undefined;
    for (let i = 0; i < rows.length; i++) if (rows[i][0] !== events[i].id) return undefined;
    const last = rows[rows.length - 1];
    return { nextExpectedRevision: last[1], position: last[2], replayed: true };
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
  for (let i = 0; i < rows.length; i++) events[i] = toStoredEvent(rows[i]);
  return events;
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
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

// By code, not `instanceof Database.SqliteError`: the native addon keeps the
// error class of the first copy of better-sqlite3 loaded in the process, and
// a fresh module registry (Jest's, per test file) loads another copy.
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
