import type { Pool } from 'pg';
import { createPostgresSchema, openPostgresPool } from '../infrastructure/postgres-pool';
import { SIGNATURE_RETENTION_MS, type AcceptedSignatureStore } from './accepted-signatures';

export interface PostgresAcceptedSignatureStoreOptions {
  /** The PostgreSQL database (DATABASE_URL); this store keeps to its own `api_accepted_signatures` table. */
  databaseUrl: string;
  retentionMs?: number;
  /** At most one sweep per this interval, started lazily by `accept`. */
  purgeIntervalMs?: number;
  maxConnections?: number;
}

const TABLE = 'api_accepted_signatures';
const PURGE_BATCH = 1000;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${TABLE} (
     signature   TEXT   PRIMARY KEY,
     accepted_at BIGINT NOT NULL
   )`,
  `CREATE INDEX IF NOT EXISTS ${TABLE}_accepted_at ON ${TABLE} (accepted_at)`,
];

/**
 * Callback signatures accepted once, in PostgreSQL, so that with several API
 * processes a signature accepted by one is refused by every other. The
 * primary key decides between concurrent deliveries of one signature to
 * different processes: one INSERT wins. Each acceptance is a commit with
 * PostgreSQL's default `synchronous_commit = on`: on disk before `accept`
 * answers, as a restart must not reopen the replay window.
 */
export class PostgresAcceptedSignatureStore implements AcceptedSignatureStore {
  private readonly retentionMs: number;
  private readonly purgeIntervalMs: number;
  private lastPurge = 0;
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: Pool,
    options: PostgresAcceptedSignatureStoreOptions,
  ) {
    this.retentionMs = options.retentionMs ?? SIGNATURE_RETENTION_MS;
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
  }

  /** Connects and creates the table if it is not there yet. */
  static async open(options: PostgresAcceptedSignatureStoreOptions): Promise<PostgresAcceptedSignatureStore> {
    const pool = openPostgresPool({ connectionString: options.databaseUrl, applicationName: 'aftersales-signatures', max: options.maxConnections ?? 4 });
    try {
      await createPostgresSchema(pool, TABLE, SCHEMA);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresAcceptedSignatureStore(pool, options);
  }

  accept(signature: string, nowMs: number): Promise<boolean> {
    return this.track(async () => {
      const expiredBefore = nowMs - this.retentionMs;
      if (nowMs - this.lastPurge >= this.purgeIntervalMs) {
        this.lastPurge = nowMs;
        void this.track(() => this.purge(expiredBefore)).catch(() => (this.lastPurge = 0));
      }
      // A record past the retention counts as gone whether or not a sweep has removed it yet
      // (its timestamp is refused long before): the same answer as the SQLite store, without waiting for the sweep.
      const { rowCount } = await this.pool.query(
        `INSERT INTO ${TABLE} (signature, accepted_at) VALUES ($1, $2)
         ON CONFLICT (signature) DO UPDATE SET accepted_at = excluded.accepted_at WHERE ${TABLE}.accepted_at <= $3`,
        [signature, nowMs, expiredBefore],
      );
      return rowCount === 1;
    });
  }

  /**
   * One bounded batch, beside the acceptance rather than in its way. The
   * outer `accepted_at` test is checked again against a row an acceptance
   * renewed meanwhile, so a sweep never deletes a signature accepted again.
   */
  private async purge(expiredBefore: number): Promise<void> {
    await this.pool.query(
      `DELETE FROM ${TABLE} WHERE accepted_at <= $1 AND signature IN (SELECT signature FROM ${TABLE} WHERE accepted_at <= $1 LIMIT $2)`,
      [expiredBefore, PURGE_BATCH],
    );
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      await this.pool.end();
    })();
    return this.closing;
  }

  private track<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('The accepted-signature store is closed'));
    const running = operation();
    this.running.add(running);
    const forget = () => this.running.delete(running);
    running.then(forget, forget);
    return running;
  }
}
