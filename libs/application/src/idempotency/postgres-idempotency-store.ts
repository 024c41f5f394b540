import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { timeOrderedUuid } from '../ids/time-ordered-uuid';
import { createPostgresSchema, inTransaction, openPostgresPool } from '../infrastructure/postgres-pool';
import {
  IDEMPOTENCY_LEASE_MS,
  IDEMPOTENCY_RETENTION_MS,
  type IdempotencyClaim,
  type IdempotencyScope,
  type IdempotencyStore,
  type RecordedResponse,
} from './idempotency-store';

export interface PostgresIdempotencyStoreOptions {
  /** The PostgreSQL database (DATABASE_URL); this store keeps to its own `api_idempotency_*` table. */
  databaseUrl: string;
  retentionMs?: number;
  leaseMs?: number;
  /** Milliseconds since the epoch; a parameter so tests can move time. */
  now?: () => number;
  /** At most one sweep of expired records per this interval, started lazily by `begin`. */
  purgeIntervalMs?: number;
  /** Connections this store may hold. */
  maxConnections?: number;
}

interface RecordRow {
  request_hash: string;
  state: 'in_progress' | 'completed';
  resource_id: string | null;
  status: number | null;
  headers: string | null;
  body: string | null;
  expires_at: number;
}

const TABLE = 'api_idempotency_records';
const PURGE_BATCH = 1000;
/** A record that vanished between the INSERT that found it and the lock on it (released or purged meanwhile) is claimed again, this often at most. */
const CLAIM_ATTEMPTS = 5;
const KEY = 'principal = $1 AND method = $2 AND path = $3 AND idempotency_key = $4';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${TABLE} (
     principal       TEXT   NOT NULL,
     method          TEXT   NOT NULL,
     path            TEXT   NOT NULL,
     idempotency_key TEXT   NOT NULL,
     request_hash    TEXT   NOT NULL,
     state           TEXT   NOT NULL CHECK (state IN ('in_progress', 'completed')),
     claim_id        TEXT   NOT NULL,
     resource_id     TEXT,
     status          INTEGER,
     headers         TEXT,
     body            TEXT,
     created_at      BIGINT NOT NULL,
     expires_at      BIGINT NOT NULL,
     PRIMARY KEY (principal, method, path, idempotency_key)
   )`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_expires_at ON ${TABLE} (expires_at)`,
];

/**
 * Idempotency records in PostgreSQL, for several API processes on several
 * machines: a key claimed through one is claimed for all, and a response
 * recorded by one is replayed by all. Same semantics as
 * SqliteIdempotencyStore (leases, mismatch, in progress, replay, retention,
 * `resourceId`).
 *
 * A claim is one `INSERT ... ON CONFLICT DO NOTHING`: the primary key lets
 * exactly one of several concurrent first requests in (the others wait for
 * its commit, then find its row). A key already there is read `FOR UPDATE`
 * and, if its lease or retention ran out, taken over in that same
 * transaction, so two retries cannot both take over a lapsed claim.
 *
 * Durability: every write is a commit with PostgreSQL's default
 * `synchronous_commit = on`, so what `begin` and `complete` resolve with is
 * on the server's disk (and its synchronous standbys, if any) already.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private readonly retentionMs: number;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly purgeIntervalMs: number;
  private lastPurge = 0;
  /** Calls not yet settled, so `close` lets them finish before ending the pool. */
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: Pool,
    options: PostgresIdempotencyStoreOptions,
  ) {
    this.retentionMs = options.retentionMs ?? IDEMPOTENCY_RETENTION_MS;
    this.leaseMs = options.leaseMs ?? IDEMPOTENCY_LEASE_MS;
    this.now = options.now ?? Date.now;
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
  }

  /** Connects and creates the table if it is not there yet. */
  static async open(options: PostgresIdempotencyStoreOptions): Promise<PostgresIdempotencyStore> {
    const pool = openPostgresPool({ connectionString: options.databaseUrl, applicationName: 'aftersales-idempotency', max: options.maxConnections ?? 10 });
    try {
      await createPostgresSchema(pool, TABLE, SCHEMA);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresIdempotencyStore(pool, options);
  }

  begin(scope: IdempotencyScope, requestHash: string): Promise<IdempotencyClaim> {
    return this.track(async () => {
      const now = this.now();
      this.purgeIfDue(now);
      for (let attempt = 1; ; attempt += 1) {
        const claim = (await this.insertClaim(scope, requestHash, now)) ?? (await this.claimExisting(scope, requestHash, now));
        if (claim) return claim;
        if (attempt >= CLAIM_ATTEMPTS) throw new Error(`The idempotency key kept changing hands while being claimed (${attempt} attempts)`);
      }
    });
  }

  complete(scope: IdempotencyScope, claimId: string, response: RecordedResponse): Promise<void> {
    return this.track(async () => {
      await this.pool.query(
        `UPDATE ${TABLE} SET state = 'completed', status = $5, headers = $6, body = $7, expires_at = $8
         WHERE ${KEY} AND claim_id = $9 AND state = 'in_progress'`,
        [...scopeParameters(scope), response.status, JSON.stringify(response.headers), response.body ?? null, this.now() + this.retentionMs, claimId],
      );
    });
  }

  release(scope: IdempotencyScope, claimId: string): Promise<void> {
    return this.track(async () => {
      await this.pool.query(`DELETE FROM ${TABLE} WHERE ${KEY} AND claim_id = $5 AND state = 'in_progress'`, [...scopeParameters(scope), claimId]);
    });
  }

  purgeExpired(): Promise<number> {
    return this.track(async () => {
      const now = this.now();
      let removed = 0;
      for (;;) {
        const removedNow = await this.purgeBatch(now);
        removed += removedNow;
        if (removedNow < PURGE_BATCH) return removed;
      }
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      await this.pool.end();
    })();
    return this.closing;
  }

  /** The first claim of a key: the row is new. Undefined when the key has a row already. */
  private async insertClaim(scope: IdempotencyScope, requestHash: string, now: number): Promise<IdempotencyClaim | undefined> {
    const claimId = randomUUID();
    const resourceId = timeOrderedUuid(now);
    const { rowCount } = await this.pool.query(
      `INSERT INTO ${TABLE} (principal, method, path, idempotency_key, request_hash, state, claim_id, resource_id, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'in_progress', $6, $7, $8, $9)
       ON CONFLICT (principal, method, path, idempotency_key) DO NOTHING`,
      [...scopeParameters(scope), requestHash, claimId, resourceId, now, now + this.leaseMs],
    );
    return rowCount === 1 ? { outcome: 'started', claimId, resourceId } : undefined;
  }

  /** The key has a row: answer from it, or take it over if it expired. Undefined when the row is gone by the time it is locked. */
  private claimExisting(scope: IdempotencyScope, requestHash: string, now: number): Promise<IdempotencyClaim | undefined> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<RecordRow>(
        `SELECT request_hash, state, resource_id, status, headers, body, expires_at FROM ${TABLE} WHERE ${KEY} FOR UPDATE`,
        scopeParameters(scope),
      );
      const row = rows[0];
      if (!row) return undefined;
      if (row.expires_at > now) return answerFrom(row, requestHash);
      return this.takeOver(client, scope, requestHash, row, now);
    });
  }

  /**
   * An expired row (a lapsed lease, or a record past retention) is claimed
   * afresh, keeping the id a lapsed claim of this same request drew: its
   * first attempt may have used it.
   */
  private async takeOver(client: PoolClient, scope: IdempotencyScope, requestHash: string, row: RecordRow, now: number): Promise<IdempotencyClaim> {
    const lapsedSameRequest = row.state === 'in_progress' && row.request_hash === requestHash ? row.resource_id : null;
    const resourceId = lapsedSameRequest ?? timeOrderedUuid(now);
    const claimId = randomUUID();
    await client.query(
      `UPDATE ${TABLE} SET request_hash = $5, state = 'in_progress', claim_id = $6, resource_id = $7,
         status = NULL, headers = NULL, body = NULL, created_at = $8, expires_at = $9
       WHERE ${KEY}`,
      [...scopeParameters(scope), requestHash, claimId, resourceId, now, now + this.leaseMs],
    );
    return { outcome: 'started', claimId, resourceId };
  }

  /**
   * A lapsed claim stays for the retention period: its resource id is what a
   * late retry converges on. The condition is checked again outside the
   * batch's subquery, so a row a claim took over meanwhile (a new version of
   * it) is left alone.
   */
  private async purgeBatch(now: number): Promise<number> {
    const expired = `expires_at <= $1 AND (state = 'completed' OR created_at <= $2)`;
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${TABLE} WHERE ${expired} AND (principal, method, path, idempotency_key) IN (
         SELECT principal, method, path, idempotency_key FROM ${TABLE} WHERE ${expired} LIMIT $3 FOR UPDATE SKIP LOCKED)`,
      [now, now - this.retentionMs, PURGE_BATCH],
    );
    return rowCount ?? 0;
  }

  private purgeIfDue(now: number): void {
    if (now - this.lastPurge < this.purgeIntervalMs) return;
    this.lastPurge = now;
    // One bounded batch per sweep, beside the request rather than in its way; a failed sweep is retried at the next.
    void this.track(() => this.purgeBatch(now)).catch(() => (this.lastPurge = 0));
  }

  private track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('The idempotency store is closed'));
    const running = operation();
    this.running.add(running);
    const forget = () => this.running.delete(running);
    running.then(forget, forget);
    return running;
  }
}

function answerFrom(row: RecordRow, requestHash: string): IdempotencyClaim {
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

function scopeParameters(scope: IdempotencyScope): [string, string, string, string] {
  return [scope.principal, scope.method, scope.path, scope.key];
}
