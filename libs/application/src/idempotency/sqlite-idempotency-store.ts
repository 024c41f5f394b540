import Database from 'better-sqlite3';
import { WalFileSync } from '@aftersales/event-store';
import { openSqliteFile } from '../infrastructure/sqlite-file';
import { randomUUID } from 'node:crypto';
import { timeOrderedUuid } from '../ids/time-ordered-uuid';
import { TickTransaction } from './tick-transaction';
import { LOCK_TAKEN, withoutBusyWait } from './write-lock';
import {
  IDEMPOTENCY_LEASE_MS,
  IDEMPOTENCY_RETENTION_MS,
  type IdempotencyClaim,
  type IdempotencyScope,
  type IdempotencyStore,
  type RecordedResponse,
} from './idempotency-store';

export interface SqliteIdempotencyStoreOptions {
  /** The database file; shared with the event store, which keeps to its own `es_*` tables. */
  path: string;
  retentionMs?: number;
  leaseMs?: number;
  /** Milliseconds since the epoch; a parameter so tests can move time. */
  now?: () => number;
  /** At most one sweep of expired records per this interval, done lazily on `begin`. */
  purgeIntervalMs?: number;
  busyTimeoutMs?: number;
  /**
   * Makes what this connection committed durable: an fsync of the file's
   * write-ahead log that starts after the call. Defaults to one on `path`;
   * none for `:memory:`.
   */
  walSync?: WalSync;
  /**
   * Whether a started claim waits for its fsync. Not needed when the events
   * live in this same file (see the class comment); needed when they live
   * elsewhere (EventStoreDB), or a crash could keep the events and lose the
   * claim's `resourceId`.
   */
  durableClaims?: boolean;
}

/** An fsync of the write-ahead log, off the event loop, shared by whoever asks while it runs. */
export interface WalSync {
  sync(): Promise<void>;
  close(): Promise<void> | void;
}

interface RecordRow {
  request_hash: string;
  state: 'in_progress' | 'completed';
  claim_id: string;
  resource_id: string | null;
  status: number | null;
  headers: string | null;
  body: string | null;
  expires_at: number;
}

const PURGE_BATCH = 1000;

/**
 * Idempotency records in SQLite, in their own table of the service's file:
 * durable across restarts and the loss of Redis. Claims and records run in
 * IMMEDIATE transactions, so two processes on the same file cannot both
 * claim a key; everything asked for in one turn of the event loop shares one
 * transaction.
 *
 * Durability: commits use `synchronous=NORMAL` (no fsync on the event loop).
 * A claim is not fsynced by itself, yet it is durable whenever what its
 * request appended is: it was written to the same write-ahead log before
 * those events, and the fsync that makes them durable covers every frame
 * before them. So a claim lost in a crash took no events with it, and the
 * retry starts afresh; a claim that survived keeps its `resourceId`, and
 * the retry converges on what the first attempt wrote. A completed record is
 * not waited for either: its fsync is asked for and the response leaves at
 * once. The key is recorded durably where it matters, in the metadata of the
 * events the request appended (in their own append); a retry whose record a
 * crash took back runs again and the command path answers with the case as
 * it is, appending nothing (a keyed command costs one fsync, not two). A
 * replay waits for an fsync that began after its read, so it never answers
 * from a record a crash could still take back.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly db: Database.Database;
  private readonly retentionMs: number;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly purgeIntervalMs: number;
  private lastPurge = 0;
  private readonly durableClaims: boolean;
  private readonly walSync: WalSync | undefined;
  private readonly writes: TickTransaction;
  /** Calls not yet settled (their fsync included), so `close` lets them finish. */
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private readonly select: Database.Statement<[string, string, string, string], RecordRow>;
  private readonly remove: Database.Statement<[string, string, string, string]>;
  private readonly insert: Database.Statement<[string, string, string, string, string, string, string, number, number]>;
  private readonly insertIfAbsent: Database.Statement<[string, string, string, string, string, string, string, number, number]>;
  private readonly finish: Database.Statement<[number, string, string | null, number, string, string, string, string, string]>;
  private readonly releaseClaim: Database.Statement<[string, string, string, string, string]>;
  private readonly purge: Database.Statement<[number, number, number]>;
  private readonly claim: (scope: IdempotencyScope, requestHash: string, now: number) => IdempotencyClaim;

  constructor(options: SqliteIdempotencyStoreOptions) {
    this.retentionMs = options.retentionMs ?? IDEMPOTENCY_RETENTION_MS;
    this.leaseMs = options.leaseMs ?? IDEMPOTENCY_LEASE_MS;
    this.now = options.now ?? Date.now;
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    this.durableClaims = options.durableClaims ?? false;
    // NORMAL: the records that must survive a crash are made durable by `walSync` (see the class comment).
    this.db = openSqliteFile({ path: options.path, busyTimeoutMs: options.busyTimeoutMs, synchronous: 'NORMAL', schema: `
        CREATE TABLE IF NOT EXISTS idempotency_records (
          principal       TEXT    NOT NULL,
          method          TEXT    NOT NULL,
          path            TEXT    NOT NULL,
          idempotency_key TEXT    NOT NULL,
          request_hash    TEXT    NOT NULL,
          state           TEXT    NOT NULL CHECK (state IN ('in_progress', 'completed')),
          claim_id        TEXT    NOT NULL,
          resource_id     TEXT,
          status          INTEGER,
          headers         TEXT,
          body            TEXT,
          created_at      INTEGER NOT NULL,
          expires_at      INTEGER NOT NULL,
          PRIMARY KEY (principal, method, path, idempotency_key)
        );
        CREATE INDEX IF NOT EXISTS idempotency_records_expires_at ON idempotency_records (expires_at);
      ` });

    addResourceIdColumn(this.db);
    const key = 'principal = ? AND method = ? AND path = ? AND idempotency_key = ?';
    this.select = this.db.prepare(
      `SELECT request_hash, state, claim_id, resource_id, status, headers, body, expires_at FROM idempotency_records WHERE ${key}`,
    );
    this.remove = this.db.prepare(`DELETE FROM idempotency_records WHERE ${key}`);
    this.insert = this.db.prepare(
      `INSERT INTO idempotency_records (principal, method, path, idempotency_key, request_hash, state, claim_id, resource_id, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, 'in_progress', ?, ?, ?, ?)`,
    );
    this.insertIfAbsent = this.db.prepare(
      `INSERT INTO idempotency_records (principal, method, path, idempotency_key, request_hash, state, claim_id, resource_id, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, 'in_progress', ?, ?, ?, ?) ON CONFLICT (principal, method, path, idempotency_key) DO NOTHING`,
    );
    this.finish = this.db.prepare(
      `UPDATE idempotency_records SET state = 'completed', status = ?, headers = ?, body = ?, expires_at = ?
       WHERE claim_id = ? AND ${key} AND state = 'in_progress'`,
    );
    this.releaseClaim = this.db.prepare(`DELETE FROM idempotency_records WHERE claim_id = ? AND ${key} AND state = 'in_progress'`);
    // A lapsed claim stays for the retention period: its resource id is what a late retry converges on.
    this.purge = this.db.prepare(
      `DELETE FROM idempotency_records WHERE rowid IN (
         SELECT rowid FROM idempotency_records WHERE expires_at <= ? AND (state = 'completed' OR created_at <= ?) LIMIT ?)`,
    );

    const claim = (scope: IdempotencyScope, requestHash: string, now: number): IdempotencyClaim => {
      const id = scopeParameters(scope);
      // A key used for the first time (nearly every request) costs one
      // statement: the insert finds it absent itself, no SELECT before it.
      const freshClaimId = randomUUID();
      const freshResourceId = timeOrderedUuid(now);
      if (this.insertIfAbsent.run(...id, requestHash, freshClaimId, freshResourceId, now, now + this.leaseMs).changes === 1) {
        return { outcome: 'started', claimId: freshClaimId, resourceId: freshResourceId };
      }
      const row = this.select.get(...id);
      if (row && row.expires_at > now) {
        if (row.request_hash !== requestHash) return { outcome: 'mismatch' };
        if (row.state === 'in_progress') return { outcome: 'in_progress' };
        return {
          outcome: 'replay',
          response: {
            status: row.status ?? 200,
            headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {},
            body: row.body ?? undefined,
          },
        };
      }
      // Absent, or expired (a lapsed lease or a record past retention): claim it afresh,
      // keeping the id a lapsed claim of this same request drew (its first attempt may have used it).
      const lapsedSameRequest = row?.state === 'in_progress' && row.request_hash === requestHash ? row.resource_id : null;
      const resourceId = lapsedSameRequest ?? freshResourceId;
      if (row) this.remove.run(...id);
      this.insert.run(...id, requestHash, freshClaimId, resourceId, now, now + this.leaseMs);
      return { outcome: 'started', claimId: freshClaimId, resourceId };
    };
    this.claim = claim;
    // Everything asked for in one turn of the event loop commits together, and
    // another connection's write lock is waited for off the event loop.
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const immediate = this.db.transaction((work: () => void) => work()).immediate;
    this.writes = new TickTransaction(
      (work, mayWait) => withoutBusyWait(this.db, busyTimeoutMs, mayWait, () => immediate(work)) !== LOCK_TAKEN,
      busyTimeoutMs,
    );
    this.walSync = options.walSync ?? (options.path === ':memory:' ? undefined : defaultWalSync(options.path));
  }

  begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyClaim> {
    return this.track(this.claimDurably(scope, requestHash));
  }

  complete(scope: IdempotencyScope, claimId: string, response: RecordedResponse): Promise<void> {
    return this.track(this.record(scope, claimId, response));
  }

  release(scope: IdempotencyScope, claimId: string): Promise<void> {
    return this.track(this.writes.enqueue(() => void this.releaseClaim.run(claimId, ...scopeParameters(scope))));
  }

  async purgeExpired(): Promise<number> {
    const now = this.now();
    let removed = 0;
    for (;;) {
      const { changes } = this.purge.run(now, now - this.retentionMs, PURGE_BATCH);
      removed += changes;
      if (changes < PURGE_BATCH) return removed;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // What was asked for before close still commits, and its fsync is waited for.
  private async shutDown(): Promise<void> {
    this.writes.close();
    // A record asks for its fsync once committed: wait for those too.
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await this.walSync?.close();
    this.db.close();
  }

  private async claimDurably(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyClaim> {
    const now = this.now();
    const claim = await this.writes.enqueue(() => {
      this.purgeIfDue(now);
      return this.claim(scope, requestHash, now);
    });
    if (claim.outcome === 'replay' || (claim.outcome === 'started' && this.durableClaims)) await this.durable();
    return claim;
  }

  private async record(scope: IdempotencyScope, claimId: string, response: RecordedResponse): Promise<void> {
    const body = response.body ?? null;
    const expiresAt = this.now() + this.retentionMs;
    await this.writes.enqueue(() => void this.finish.run(response.status, JSON.stringify(response.headers), body, expiresAt, claimId, ...scopeParameters(scope)));
    // Asked for, not waited for (see the class comment): the request's events carry its key.
    void this.track(this.durable().catch(() => undefined));
  }

  /** Resolves once everything committed so far is on disk. */
  private durable(): Promise<void> {
    return this.walSync ? this.walSync.sync() : Promise.resolve();
  }

  private track<T>(operation: Promise<T>): Promise<T> {
    this.running.add(operation);
    const forget = () => this.running.delete(operation);
    operation.then(forget, forget);
    return operation;
  }

  private purgeIfDue(now: number): void {
    if (now - this.lastPurge < this.purgeIntervalMs) return;
    this.lastPurge = now;
    // One bounded batch per sweep keeps a request from paying for a large backlog.
    this.purge.run(now, now - this.retentionMs, PURGE_BATCH);
  }
}

/** Files made before claims kept a resource id get the column (NULL in old rows: a fresh id is drawn). */
function addResourceIdColumn(db: Database.Database): void {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('idempotency_records')`).pluck().all() as string[];
  if (!columns.includes('resource_id')) db.exec('ALTER TABLE idempotency_records ADD COLUMN resource_id TEXT');
}

function defaultWalSync(path: string): WalSync {
  return new WalFileSync(path);
}

function scopeParameters(scope: IdempotencyScope): [string, string, string, string] {
  return [scope.principal, scope.method, scope.path, scope.key];
}
