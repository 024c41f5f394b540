import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@aftersales/event-store';
import { SqliteIdempotencyStore, type IdempotencyScope } from '../../libs/application/src/idempotency';

const scope: IdempotencyScope = { principal: 'merchant:m-user', method: 'POST', path: '/v1/cases/c1/approve', key: 'retry-1' };

describe('SqliteIdempotencyStore on the service file', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-idempotency-'));
    path = join(dir, 'nested', 'aftersales.db');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps records across closing and reopening the file', async () => {
    const first = new SqliteIdempotencyStore({ path });
    const claim = await first.begin(scope, 'h');
    if (claim.outcome !== 'started') throw new Error(claim.outcome);
    await first.complete(scope, claim.claimId, { status: 200, headers: {}, body: '{"revision":3}' });
    await first.close();

    const reopened = new SqliteIdempotencyStore({ path });
    await expect(reopened.begin(scope, 'h')).resolves.toEqual({ outcome: 'replay', response: { status: 200, headers: {}, body: '{"revision":3}' } });
    await reopened.close();
  });

  it('adds the resource id column to a file made before it, and claims there', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'nested'), { recursive: true });
    const old = new Database(path);
    old.exec(`CREATE TABLE idempotency_records (
      principal TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, idempotency_key TEXT NOT NULL,
      request_hash TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('in_progress', 'completed')), claim_id TEXT NOT NULL,
      status INTEGER, headers TEXT, body TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
      PRIMARY KEY (principal, method, path, idempotency_key))`);
    old.prepare(`INSERT INTO idempotency_records VALUES ('merchant:m-user', 'POST', '/v1/cases/c1/approve', 'retry-1', 'h', 'in_progress', 'c-old', NULL, NULL, NULL, 0, 1)`).run();
    old.close();

    const store = new SqliteIdempotencyStore({ path });
    const claim = await store.begin(scope, 'h');
    expect(claim).toMatchObject({ outcome: 'started', resourceId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    await store.close();
  });

  it('lets only one of two connections claim a key', async () => {
    const a = new SqliteIdempotencyStore({ path });
    const b = new SqliteIdempotencyStore({ path });
    const outcomes = [(await a.begin(scope, 'h')).outcome, (await b.begin(scope, 'h')).outcome];
    expect(outcomes.sort()).toEqual(['in_progress', 'started']);
    await a.close();
    await b.close();
  });

  it('shares the file with the event store, each in its own tables, in WAL mode', async () => {
    const events = new SqliteEventStore({ path });
    const records = new SqliteIdempotencyStore({ path });
    const claim = await records.begin(scope, 'h');
    expect(claim.outcome).toBe('started');
    await records.close();
    await events.close();

    const db = new Database(path, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    expect(tables).toContain('idempotency_records');
    expect(tables.filter((name) => name !== 'idempotency_records' && !name.startsWith('sqlite_')).every((name) => name.startsWith('es_'))).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
