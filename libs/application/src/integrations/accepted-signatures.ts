import Database from 'better-sqlite3';
import { WalFileSync } from '@aftersales/event-store';
import { openSqliteFile } from '../infrastructure/sqlite-file';
import { TickTransaction } from '../idempotency/tick-transaction';
import { LOCK_TAKEN, withoutBusyWait } from '../idempotency/write-lock';

export const ACCEPTED_SIGNATURES = Symbol('ACCEPTED_SIGNATURES');

/** A signature's timestamp may be this far from now; older ones are refused, so a record need not outlive it. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;
/** Records are kept past the tolerance on either side, then purged: a signature that old is refused anyway. */
export const SIGNATURE_RETENTION_MS = 10 * 60_000;

/**
 * Callback signatures accepted once, so a captured request cannot be played
 * again. Durable (a restart must not reopen the replay window); a PostgreSQL
 * store can take the SQLite one's place for several API hosts.
 */
export interface AcceptedSignatureStore {
  /** Records the signature; false when it was accepted before (a replay). */
  accept(signature: string, nowMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface SqliteAcceptedSignatureStoreOptions {
  /** The service's SQLite file; this store keeps to its own table. */
  path: string;
  retentionMs?: number;
  /** At most one sweep per this interval, done lazily on `accept`. */
  purgeIntervalMs?: number;
  busyTimeoutMs?: number;
  /**
   * An fsync of the file's write-ahead log off the event loop, started after
   * the call. Defaults to one on `path`; none for `:memory:`.
   */
  walSync?: { sync(): Promise<void>; close(): Promise<void> | void };
}

const PURGE_BATCH = 1000;

export class SqliteAcceptedSignatureStore implements AcceptedSignatureStore {
  private readonly db: Database.Database;
  private readonly retentionMs: number;
  private readonly purgeIntervalMs: number;
  private lastPurge = 0;
  private readonly busyTimeoutMs: number;
  /**
   * The callbacks that arrive in one turn of the event loop are recorded in
   * one transaction, and another connection's write lock is waited for off
   * the event loop (see withoutBusyWait).
   */
  private readonly writes: TickTransaction;
  private readonly insert: Database.Statement<[string, number]>;
  private readonly purge: Database.Statement<[number, number]>;
  private readonly walSync: SqliteAcceptedSignatureStoreOptions['walSync'];

  constructor(options: SqliteAcceptedSignatureStoreOptions) {
    this.retentionMs = options.retentionMs ?? SIGNATURE_RETENTION_MS;
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    // An accepted signature lost in a crash could be replayed after it, so
    // `accept` answers only once it is on disk; but FULL would fsync inside
    // the INSERT, on the event loop, once per callback (a stall of the whole
    // service as long as the disk takes). NORMAL, and the log's fsync off
    // the event loop before the answer, is the same guarantee.
    this.db = openSqliteFile({ path: options.path, busyTimeoutMs: this.busyTimeoutMs, synchronous: 'NORMAL', schema: `
        CREATE TABLE IF NOT EXISTS accepted_signatures (
          signature   TEXT    PRIMARY KEY,
          accepted_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS accepted_signatures_accepted_at ON accepted_signatures (accepted_at);
      ` });
    // The primary key decides between two concurrent deliveries of one signature: one insert wins.
    this.insert = this.db.prepare('INSERT OR IGNORE INTO accepted_signatures (signature, accepted_at) VALUES (?, ?)');
    this.purge = this.db.prepare(
      'DELETE FROM accepted_signatures WHERE rowid IN (SELECT rowid FROM accepted_signatures WHERE accepted_at <= ? LIMIT ?)',
    );
    const immediate = this.db.transaction((work: () => void) => work()).immediate;
    this.writes = new TickTransaction(
      (work, mayWait) => withoutBusyWait(this.db, this.busyTimeoutMs, mayWait, () => immediate(work)) !== LOCK_TAKEN,
      this.busyTimeoutMs,
    );
    this.walSync = options.walSync ?? (options.path === ':memory:' ? undefined : new WalFileSync(options.path));
  }

  async accept(signature: string, nowMs: number): Promise<boolean> {
    if (nowMs - this.lastPurge >= this.purgeIntervalMs) {
      this.lastPurge = nowMs;
      void this.writes.enqueue(() => this.purge.run(nowMs - this.retentionMs, PURGE_BATCH)).catch(() => undefined);
    }
    // A replay is refused at once: refusing is safe whether or not the first acceptance is on disk yet.
    if ((await this.writes.enqueue(() => this.insert.run(signature, nowMs).changes)) === 0) return false;
    await this.walSync?.sync();
    return true;
  }

  async close(): Promise<void> {
    this.writes.close();
    await this.walSync?.close();
    if (this.db.open) this.db.close();
  }
}
