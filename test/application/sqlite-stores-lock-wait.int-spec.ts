import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAcceptedSignatureStore, SqliteIdempotencyStore } from '@aftersales/application';

/**
 * The idempotency records and accepted callback signatures share the
 * service's file with the event store and the worker's tables: another
 * thread's commit holds the file's write lock. Their writes wait for it off
 * the event loop (tried again every millisecond), not in SQLite's busy
 * handler, which sleeps the thread and every request with it.
 */
describe('SQLite stores of the API while another connection holds the write lock', () => {
  let dir: string;
  let path: string;
  let other: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stores-lock-wait-'));
    path = join(dir, 'aftersales.db');
  });
  afterEach(() => {
    if (other?.inTransaction) other.exec('ROLLBACK');
    other?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Holds the lock for `ms`, and measures how late a 20 ms timer fires meanwhile. */
  async function whileLocked<T>(ms: number, write: () => Promise<T>): Promise<{ result: T; timerLateMs: number }> {
    other = new Database(path, { timeout: 0 });
    other.exec('BEGIN IMMEDIATE');
    const writing = write();
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const timerLateMs = Date.now() - started - 20;
    setTimeout(() => other.exec('COMMIT'), Math.max(0, ms - 20));
    return { result: await writing, timerLateMs };
  }

  it('claims and records an Idempotency-Key once the lock is free, the event loop turning meanwhile', async () => {
    const store = new SqliteIdempotencyStore({ path, walSync: { sync: async () => undefined, close: () => undefined } });
    const scope = { principal: 'buyer:b1', method: 'POST', path: '/v1/cases', key: 'k1' };
    const { result: claim, timerLateMs } = await whileLocked(100, () => store.begin(scope, 'hash'));
    expect(timerLateMs).toBeLessThan(500);
    expect(claim).toMatchObject({ outcome: 'started' });
    if (claim.outcome !== 'started') throw new Error('not started');
    await store.complete(scope, claim.claimId, { status: 201, headers: {}, body: '{}' });
    expect(await store.begin(scope, 'hash')).toMatchObject({ outcome: 'replay' });
    await store.close();
  });

  it('records an accepted signature once the lock is free, the event loop turning meanwhile, and refuses it after', async () => {
    const store = new SqliteAcceptedSignatureStore({ path, walSync: { sync: async () => undefined, close: () => undefined } });
    const { result: fresh, timerLateMs } = await whileLocked(100, () => store.accept('sig-1', Date.now()));
    expect(timerLateMs).toBeLessThan(500);
    expect(fresh).toBe(true);
    expect(await store.accept('sig-1', Date.now())).toBe(false);
    await store.close();
  });

  it('records the signatures of callbacks that arrive in one turn of the event loop in one transaction', async () => {
    const store = new SqliteAcceptedSignatureStore({ path, walSync: { sync: async () => undefined, close: () => undefined } });
    const attempts = jest.spyOn(Database.prototype, 'exec');
    const now = Date.now();
    const answers = await Promise.all([...Array.from({ length: 10 }, (_, i) => store.accept(`sig-${i}`, now)), store.accept('sig-3', now)]);
    expect(answers).toEqual([...Array(10).fill(true), false]);
    // The busy timeout is turned off and on again once, around the one transaction.
    expect(attempts.mock.calls.filter(([sql]) => /busy_timeout = 0/.test(String(sql)))).toHaveLength(1);
    attempts.mockRestore();
    await store.close();
  });
});
