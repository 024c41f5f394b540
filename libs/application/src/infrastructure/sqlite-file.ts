import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SqliteFileOptions {
  path: string;
  busyTimeoutMs?: number;
  /** FULL where losing the last commit in a crash would change an answer; NORMAL for what can be rebuilt. */
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
    db.exec(options.schema);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
