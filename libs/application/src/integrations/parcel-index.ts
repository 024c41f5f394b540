import Database from 'better-sqlite3';
import { openSqliteFile } from '../infrastructure/sqlite-file';

export const PARCEL_INDEX = Symbol('PARCEL_INDEX');

export interface ParcelEntry {
  trackingNumber: string;
  caseId: string;
}

/**
 * Tracking number → case, for logistics callbacks, which name only the
 * parcel. Written by ParcelIndexProjector from the event store; `checkpoint`
 * is the global position of the last event it has taken in. A PostgreSQL
 * index can take the SQLite one's place.
 */
export interface ParcelIndex {
  caseFor(trackingNumber: string): Promise<string | undefined>;
  checkpoint(): Promise<number>;
  /** Records the entries and moves the checkpoint to `position`, atomically. */
  record(entries: readonly ParcelEntry[], position: number): Promise<void>;
  close(): Promise<void>;
}

export class SqliteParcelIndex implements ParcelIndex {
  private readonly db: Database.Database;
  private readonly select: Database.Statement<[string], { case_id: string }>;
  private readonly readCheckpoint: Database.Statement<[], { position: number }>;
  private readonly write: (entries: readonly ParcelEntry[], position: number) => void;

  constructor(options: { path: string; busyTimeoutMs?: number }) {
    // Rebuildable from the store: a lost tail is read again from the checkpoint.
    this.db = openSqliteFile({ path: options.path, busyTimeoutMs: options.busyTimeoutMs, synchronous: 'NORMAL', schema: `
        CREATE TABLE IF NOT EXISTS parcel_index (
          tracking_number TEXT PRIMARY KEY,
          case_id         TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS parcel_index_checkpoint (
          id       INTEGER PRIMARY KEY CHECK (id = 1),
          position INTEGER NOT NULL
        );
      ` });
    this.select = this.db.prepare('SELECT case_id FROM parcel_index WHERE tracking_number = ?');
    this.readCheckpoint = this.db.prepare('SELECT position FROM parcel_index_checkpoint WHERE id = 1');
    // A tracking number reused by a later case points to that case: the latest parcel is the live one.
    const upsert = this.db.prepare<[string, string]>(
      'INSERT INTO parcel_index (tracking_number, case_id) VALUES (?, ?) ON CONFLICT (tracking_number) DO UPDATE SET case_id = excluded.case_id',
    );
    const move = this.db.prepare<[number]>(
      'INSERT INTO parcel_index_checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = MAX(position, excluded.position)',
    );
    this.write = this.db.transaction((entries: readonly ParcelEntry[], position: number) => {
      for (const entry of entries) upsert.run(entry.trackingNumber, entry.caseId);
      move.run(position);
    });
  }

  async caseFor(trackingNumber: string): Promise<string | undefined> {
    return this.select.get(trackingNumber)?.case_id;
  }

  async checkpoint(): Promise<number> {
    return this.readCheckpoint.get()?.position ?? 0;
  }

  async record(entries: readonly ParcelEntry[], position: number): Promise<void> {
    this.write(entries, position);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
