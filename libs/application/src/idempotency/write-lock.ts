import type Database from 'better-sqlite3';

/** What `withoutBusyWait` answers when another connection holds the write lock and nothing was run. */
export const LOCK_TAKEN = Symbol('LOCK_TAKEN');

/** How soon a write that found the lock taken is tried again. */
export const LOCK_RETRY_MS = 1;

/**
 * Runs `write` (which begins with taking the file's write lock: BEGIN
 * IMMEDIATE, or a single INSERT) without waiting for the lock on the event
 * loop: SQLite's busy handler would sleep the thread (1 ms, 2 ms, 5 ms...)
 * while another thread or process commits, and every request with it.
 * Returns LOCK_TAKEN, nothing having been written, when the lock is held;
 * the caller tries again a little later. With `mayWait` (the caller has
 * tried for as long as its busy timeout) SQLite waits as before.
 */
export function withoutBusyWait<T>(db: Database.Database, busyTimeoutMs: number, mayWait: boolean, write: () => T): T | typeof LOCK_TAKEN {
  if (mayWait) return write();
  // Run, not prepared: SQLite applies this pragma when the statement is compiled (about 1 µs each way).
  db.exec('PRAGMA busy_timeout = 0');
  try {
    return write();
  } catch (error) {
    if (isBusy(error) && !db.inTransaction) return LOCK_TAKEN;
    throw error;
  } finally {
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  }
}

export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
