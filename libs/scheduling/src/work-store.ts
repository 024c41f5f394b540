import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PendingWork } from './pending-work';

/** What one batch of the log changed in the work owed. */
export interface WorkChanges {
  added: PendingWork[];
  removed: string[];
}

export interface StoredWork {
  key: string;
  queue: PendingWork['queue'];
  caseId: string;
  dueAt: number;
  data: PendingWork['data'];
  /** When the row was written (ms): a row this young is still being enqueued by the reactor that wrote it. */
  createdAt: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS wk_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS wk_pending (
    key TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    case_id TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT 0
  );
  -- In the reconciler's order (due time, then key): a pass reads only the rows due within the horizon, a page at a time, without sorting.
  CREATE INDEX IF NOT EXISTS wk_pending_by_due_key ON wk_pending (due_at, key);
  DROP INDEX IF EXISTS wk_pending_by_due;
`;

/** The same backstop as the event store's and the read stores' connections keep (about 40 MB of log). */
export const WAL_AUTOCHECKPOINT_BACKSTOP_PAGES = 10_000;

type PendingRow = { key: string; queue: PendingWork['queue']; case_id: string; due_at: number; data: string; created_at: number };

/**
 * The worker's durable state (ARCHITECTURE.md rule 4): the reactor's
 * checkpoint and the pending work itself, which is what the reconciler re-creates jobs from
 * when Redis lost them. Kept in the service's SQLite file, in its own
 * `wk_*` tables on its own connection, never only in Redis.
 *
 * Several worker processes may share the file: a batch is applied inside
 * one IMMEDIATE transaction that first reads the stored checkpoint, so
 * events another process already applied are skipped, not applied twice.
 */
export class WorkStore {
  private readonly db: Database.Database;
  // Prepared once: the reactor applies a batch every few milliseconds under load, and preparing is most of a small batch's cost.
  private readonly statements: ReturnType<typeof prepare>;

  constructor(
    path: string,
    private readonly now: () => number = Date.now,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    // Everything here is derived from the log: a power cut that takes the last commit back only makes the batch run again.
    this.db.pragma('synchronous = NORMAL');
    // The file is the event store's, whose own thread copies the log back (WalCheckpointer): at SQLite's default of
    // 1,000 pages every reactor COMMIT during a burst ran that copy and its fsyncs on the worker's event loop.
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_BACKSTOP_PAGES}`);
    this.db.exec(SCHEMA);
    addCreatedAt(this.db);
    // Cases' folded states were once kept here; nothing keeps them in step any more, so none may be read.
    this.db.exec('DROP TABLE IF EXISTS wk_cases');
    this.statements = prepare(this.db);
  }

  checkpoint(name: string): number {
    const position = this.statements.checkpoint.get(name) as number | undefined;
    return position ?? 0;
  }

  /**
   * Applies one batch's changes and moves the checkpoint, atomically; `plan`
   * runs inside the transaction with the checkpoint as stored, so it sees
   * exactly what earlier batches (of any process) left. Returns the work it
   * added, or undefined when the checkpoint was already past `position`.
   */
  apply(name: string, position: number, plan: (storedCheckpoint: number) => WorkChanges): WorkChanges | undefined {
    const { insertWork, deleteWork, saveCheckpoint } = this.statements;
    const run = this.db.transaction((): WorkChanges | undefined => {
      const stored = this.checkpoint(name);
      if (stored >= position) return undefined;
      const changes = plan(stored);
      for (const key of changes.removed) deleteWork.run(key);
      const createdAt = this.now();
      for (const work of changes.added) insertWork.run(work.key, work.queue, work.caseId, work.dueAt, JSON.stringify(work.data), createdAt);
      saveCheckpoint.run(name, position);
      return changes;
    });
    return run.immediate();
  }

  /**
   * Pending work in due order, a page at a time, up to `dueBy` (ms,
   * inclusive; all of it unless told): the reconciler walks what falls due
   * within its horizon.
   */
  pending(afterKey: { dueAt: number; key: string } | undefined, limit: number, dueBy: number = Number.MAX_SAFE_INTEGER): StoredWork[] {
    const until = Math.min(dueBy, Number.MAX_SAFE_INTEGER);
    const rows = (afterKey ? this.statements.pageAfter.all(afterKey.dueAt, afterKey.key, until, limit) : this.statements.firstPage.all(until, limit)) as PendingRow[];
    return rows.map((r) => ({ key: r.key, queue: r.queue, caseId: r.case_id, dueAt: r.due_at, data: JSON.parse(r.data) as PendingWork['data'], createdAt: r.created_at }));
  }

  pendingCount(): number {
    return (this.statements.count.get() as number | undefined) ?? 0;
  }

  /** How much pending work falls due after `after` (ms): what waits beyond the horizon without a job. */
  pendingDueAfter(after: number): number {
    return (this.statements.countDueAfter.get(Math.min(after, Number.MAX_SAFE_INTEGER)) as number | undefined) ?? 0;
  }

  /** Whether this piece of work is still owed (a job whose work was dropped has nothing to do). */
  isPending(key: string): boolean {
    return this.statements.isPending.get(key) !== undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** A file from before `created_at` gets the column; its rows read as old, so the reconciler checks them at once. */
function addCreatedAt(db: Database.Database): void {
  const columns = db.prepare("SELECT name FROM pragma_table_info('wk_pending')").pluck().all() as string[];
  if (!columns.includes('created_at')) db.exec('ALTER TABLE wk_pending ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0');
}

function prepare(db: Database.Database) {
  const columns = 'key, queue, case_id, due_at, data, created_at';
  return {
    checkpoint: db.prepare('SELECT position FROM wk_checkpoints WHERE name = ?').pluck(),
    saveCheckpoint: db.prepare('INSERT INTO wk_checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position'),
    insertWork: db.prepare('INSERT OR IGNORE INTO wk_pending (key, queue, case_id, due_at, data, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    deleteWork: db.prepare('DELETE FROM wk_pending WHERE key = ?'),
    firstPage: db.prepare(`SELECT ${columns} FROM wk_pending WHERE due_at <= ? ORDER BY due_at, key LIMIT ?`),
    pageAfter: db.prepare(`SELECT ${columns} FROM wk_pending WHERE (due_at, key) > (?, ?) AND due_at <= ? ORDER BY due_at, key LIMIT ?`),
    count: db.prepare('SELECT count(*) FROM wk_pending').pluck(),
    countDueAfter: db.prepare('SELECT count(*) FROM wk_pending WHERE due_at > ?').pluck(),
    isPending: db.prepare('SELECT 1 FROM wk_pending WHERE key = ?'),
  };
}
