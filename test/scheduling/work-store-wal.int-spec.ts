import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WebhookStore, WorkStore } from '@aftersales/scheduling';

// The worker's stores share the event store's SQLite file, whose own thread
// copies the write-ahead log back into the file. A commit of theirs must not
// do that copy (and its fsyncs) on the worker's event loop whenever the log
// passes SQLite's default of 1,000 pages, as it does in any burst of appends.

describe("the worker stores' commits leave the log to the event store's checkpointer", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wk-wal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** 8 MB of log (about 2,000 pages) written by a connection that never checkpoints, as appends under load leave it. */
  function fileWithLongLog(path: string): Database.Database {
    const writer = new Database(path);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('CREATE TABLE filler (b BLOB)');
    const insert = writer.prepare('INSERT INTO filler VALUES (?)');
    writer.transaction(() => {
      for (let i = 0; i < 2000; i += 1) insert.run(Buffer.alloc(4000, i % 256));
    })();
    return writer;
  }

  it('a work store commit does not copy the log into the file', () => {
    const path = join(dir, 'aftersales.db');
    const writer = fileWithLongLog(path);
    const before = statSync(path).size;
    const work = new WorkStore(path);
    try {
      work.apply('case-work', 1, () => ({ added: [], removed: [] }));
      expect(work.checkpoint('case-work')).toBe(1);
      expect(statSync(path).size).toBeLessThan(before + 1_000_000);
    } finally {
      work.close();
      writer.close();
    }
  });

  it('nor does opening the webhook store', () => {
    const path = join(dir, 'aftersales.db');
    const writer = fileWithLongLog(path);
    const before = statSync(path).size;
    const webhooks = new WebhookStore(path);
    try {
      expect(statSync(path).size).toBeLessThan(before + 1_000_000);
    } finally {
      webhooks.close();
      writer.close();
    }
  });
});
