import Database from 'better-sqlite3';
import { openSqliteFile } from '../infrastructure/sqlite-file';
import { randomUUID } from 'node:crypto';
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
}

interface RecordRow {
  request_hash: string;
  state: 'in_progress' | 'completed';
  claim_id: string;
  status: number | null;
  headers: string | null;
  body: string | null;
  expires_at: number;
}

const PURGE_BATCH = 1000;

/**
 * Idempotency records in SQLite, in their own table of the service's file:
 * durable across restarts and the loss of Redis. `begin` runs in an
 * IMMEDIATE transaction, so two processes on the same file cannot both
 * claim a key.
 */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly db: Database.Database;
  private readonly retentionMs: number;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly purgeIntervalMs: number;
  private lastPurge = 0;

  private readonly select: Database.Statement<[string, string, string, string], RecordRow>;
  private readonly remove: Database.Statement<[string, string, string, string]>;
  private readonly insert: Database.Statement<[string, string, string, string, string, string, number, number]>;
  private readonly finish: Database.Statement<[number, string, string | null, number, string, string, string, string, string]>;
  private readonly releaseClaim: Database.Statement<[string, string, string, string, string]>;
  private readonly purge: Database.Statement<[number, number]>;
  private readonly claim: (scope: IdempotencyScope, requestHash: string, now: number) => IdempotencyClaim;

  constructor(options: SqliteIdempotencyStoreOptions) {
    this.retentionMs = options.retentionMs ?? IDEMPOTENCY_RETENTION_MS;
    this.leaseMs = options.leaseMs ?? IDEMPOTENCY_LEASE_MS;
    this.now = options.now ?? Date.now;
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    // A recorded response is what stops a retried command acting twice: keep it through a crash.
    this.db = openSqliteFile({ path: options.path, busyTimeoutMs: options.busyTimeoutMs, synchronous: 'FULL', schema: `
        CREATE TABLE IF NOT EXISTS idempotency_records (
          principal       TEXT    NOT NULL,
          method          TEXT    NOT NULL,
          path            TEXT    NOT NULL,
          idempotency_key TEXT    NOT NULL,
          request_hash    TEXT    NOT NULL,
          state           TEXT    NOT NULL CHECK (state IN ('in_progress', 'completed')),
          claim_id        TEXT    NOT NULL,
          status          INTEGER,
          headers         TEXT,
          body            TEXT,
          created_at      INTEGER NOT NULL,
          expires_at      INTEGER NOT NULL,
          PRIMARY KEY (principal, method, path, idempotency_key)
        );
        CREATE INDEX IF NOT EXISTS idempotency_records_expires_at ON idempotency_records (expires_at);
      ` });

    const key = 'principal = ? AND method = ? AND path = ? AND idempotency_key = ?';
    this.select = this.db.prepare(`SELECT request_hash, state, claim_id, status, headers, body, expires_at FROM idempotency_records WHERE ${key}`);
    this.remove = this.db.prepare(`DELETE FROM idempotency_records WHERE ${key}`);
    this.insert = this.db.prepare(
      `INSERT INTO idempotency_records (principal, method, path, idempotency_key, request_hash, state, claim_id, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, 'in_progress', ?, ?, ?)`,
    );
    this.finish = this.db.prepare(
      `UPDATE idempotency_records SET state = 'completed', status = ?, headers = ?, body = ?, expires_at = ?
       WHERE claim_id = ? AND ${key} AND state = 'in_progress'`,
    );
    this.releaseClaim = this.db.prepare(`DELETE FROM idempotency_records WHERE claim_id = ? AND ${key} AND state = 'in_progress'`);
    this.purge = this.db.prepare(
      `DELETE FROM idempotency_records WHERE rowid IN (SELECT rowid FROM idempotency_records WHERE expires_at <= ? LIMIT ?)`,
    );

    const claim = (scope: IdempotencyScope, requestHash: string, now: number): IdempotencyClaim => {
      const id = scopeParameters(scope);
      const row = this.select.get(...id);
      if (row && row.expires_at > now) {
        if (row.request_hash !== requestHash) return { outcome: 'mismatch' };
        if (row.state === 'in_progress') return { outcome: 'in_progress' };
        return {
          outcome: 'replay',
          response: {
            status: row.status ?? 200,
            headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {},
            body: row.body === null ? undefined : JSON.parse(row.body),
          },
        };
      }
      // Absent, or expired (a lapsed lease or a record past retention): claim it afresh.
      if (row) this.remove.run(...id);
      const claimId = randomUUID();
      this.insert.run(...id, requestHash, claimId, now, now + this.leaseMs);
      return { outcome: 'started', claimId };
    };
    this.claim = this.db.transaction(claim).immediate;
  }

  async begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyClaim> {
    const now = this.now();
    this.purgeIfDue(now);
    return this.claim(scope, requestHash, now);
  }

  async complete(scope: IdempotencyScope, claimId: string, response: RecordedResponse): Promise<void> {
    const body = response.body === undefined ? null : JSON.stringify(response.body);
    this.finish.run(response.status, JSON.stringify(response.headers), body ?? null, this.now() + this.retentionMs, claimId, ...scopeParameters(scope));
  }

  async release(scope: IdempotencyScope, claimId: string): Promise<void> {
    this.releaseClaim.run(claimId, ...scopeParameters(scope));
  }

  async purgeExpired(): Promise<number> {
    const now = this.now();
    let removed = 0;
    for (;;) {
      const { changes } = this.purge.run(now, PURGE_BATCH);
      removed += changes;
      if (changes < PURGE_BATCH) return removed;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private purgeIfDue(now: number): void {
    if (now - this.lastPurge < this.purgeIntervalMs) return;
    this.lastPurge = now;
    // One bounded batch per sweep keeps a request from paying for a large backlog.
    this.purge.run(now, PURGE_BATCH);
  }
}

function scopeParameters(scope: IdempotencyScope): [string, string, string, string] {
  return [scope.principal, scope.method, scope.path, scope.key];
}
