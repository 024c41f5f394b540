import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { EventStoreUnavailableError, SqliteEventStore } from '@aftersales/event-store';

/**
 * Another connection's write lock (another thread's or process's commit) is
 * waited for off the event loop: the appends stay queued and are tried again
 * shortly, rather than SQLite's busy handler sleeping the thread.
 */
describe('SqliteEventStore: appends while another connection holds the write lock', () => {
  let dir: string;
  let path: string;
  let store: SqliteEventStore;
  let other: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lock-wait-'));
    path = join(dir, 'events.db');
  });
  afterEach(async () => {
    if (other?.inTransaction) other.exec('ROLLBACK');
    other?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const event = () => ({ id: randomUUID(), type: 'ReturnRequested', data: {}, metadata: {} });

  it('keeps the event loop turning while it waits, and commits once the lock is free', async () => {
    store = new SqliteEventStore({ path, busyTimeoutMs: 2_000 });
    other = new Database(path, { timeout: 0 });
    other.exec('BEGIN IMMEDIATE');
    const appended = store.append('case-1', [event()], { expectedRevision: 'no_stream' });
    const joined = store.append('case-2', [event()], { expectedRevision: 'no_stream' });
    // A timer due in 20 ms fires in about that: the thread is not asleep in SQLite's busy handler.
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(Date.now() - started).toBeLessThan(500);
    other.exec('COMMIT');
    await expect(appended).resolves.toMatchObject({ nextExpectedRevision: 0 });
    await expect(joined).resolves.toMatchObject({ nextExpectedRevision: 0 });
    expect(store.groupCommitStats().batches).toBe(1);
  });

  it('fails the batch after the busy timeout, as before', async () => {
    store = new SqliteEventStore({ path, busyTimeoutMs: 200 });
    other = new Database(path, { timeout: 0 });
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    await expect(store.append('case-1', [event()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(EventStoreUnavailableError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    other.exec('ROLLBACK');
    await expect(store.append('case-1', [event()], { expectedRevision: 'no_stream' })).resolves.toMatchObject({ nextExpectedRevision: 0 });
  });
});
