import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SqliteFileOptions {
  path: string;
  busyTimeoutMs?: number;
  /**
   * NORMAL for what can be rebuilt. FULL where losing the last commit in a
   * crash would change an answer, but FULL fsyncs inside every COMMIT on the
   * calling thread, the event loop, stalling the whole service for as long as
   * the disk takes (accepted callback signatures did, once per callback).
   * Prefer NORMAL and an fsync of the write-ahead log off the event loop
   * (`WalFileSync`, or the event store's `durable()`) before answering.
   */
  synchronous: 'FULL' | 'NORMAL';
  /** Creates the tables this store owns; runs once on open. */
  schema: string;
}

/**
 * Opens the shared SQLite file for one store's own tables: its own
 * connection in WAL mode, so it never waits on another store's reads. The
 * connection is closed again if the schema cannot be created.
 */
export function openSqliteFile(options: SqliteFileOptions): Database.Database {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    // A commit that finds the log above this many pages copies it back into
    // the database there and then, on the event loop. With the SQLite event
    // store a thread of its own does that (WalCheckpointer), so these
    // connections keep SQLite's check only as the same backstop the store
    // keeps (about 40 MB of log).
    db.pragma('wal_autocheckpoint = 10000');
    db.exec(options.schema);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
