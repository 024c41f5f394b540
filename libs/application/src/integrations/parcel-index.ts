import Database from 'better-sqlite3';
import { openSqliteFile } from '../infrastructure/sqlite-file';

export const PARCEL_INDEX = Symbol('PARCEL_INDEX');

/** A case event naming a parcel: the number is bound to the case unless another open case holds it. */
export interface ParcelEntry {
  trackingNumber: string;
  caseId: string;
}

/** A case completed or closed: the numbers it holds become free for later cases. */
export interface ParcelCaseEnded {
  caseEnded: string;
}

export type ParcelChange = ParcelEntry | ParcelCaseEnded;

/** The case a tracking number is bound to, and whether that case is still open. */
export interface ParcelBinding {
  caseId: string;
  open: boolean;
}

/**
 * Tracking number → case, for logistics callbacks, which name only the
 * parcel, and for refusing a number another open case registered first.
 * Written by ParcelIndexProjector from the event store; `checkpoint` is the
 * global position of the last event it has taken in. A PostgreSQL index can
 * take the SQLite one's place.
 */
export interface ParcelIndex {
  /** The case the number is bound to, open or ended (a late scan of an ended case still finds it). */
  caseFor(trackingNumber: string): Promise<string | undefined>;
  binding(trackingNumber: string): Promise<ParcelBinding | undefined>;
  /** Whether the case holds a tracking number still bound to it as an open case (its ending then changes the index). */
  holdsParcels(caseId: string): Promise<boolean>;
  checkpoint(): Promise<number>;
  /** Applies the changes in order and moves the checkpoint to `position`, atomically. */
  record(changes: readonly ParcelChange[], position: number): Promise<void>;
  close(): Promise<void>;
}

export const isCaseEnded = (change: ParcelChange): change is ParcelCaseEnded => 'caseEnded' in change;

export class SqliteParcelIndex implements ParcelIndex {
  private readonly db: Database.Database;
  private readonly select: Database.Statement<[string], { case_id: string; ended: number }>;
  private readonly readCheckpoint: Database.Statement<[], { position: number }>;
  private readonly openParcelOf: Database.Statement<[string], number>;
  private readonly write: (changes: readonly ParcelChange[], position: number) => void;

  constructor(options: { path: string; busyTimeoutMs?: number }) {
    // Rebuildable from the store: a lost tail is read again from the checkpoint. The tables of the
    // earlier index (the latest case won a number) are dropped, so this one is built from the start.
    this.db = openSqliteFile({ path: options.path, busyTimeoutMs: options.busyTimeoutMs, synchronous: 'NORMAL', schema: `
        DROP TABLE IF EXISTS parcel_index;
        DROP TABLE IF EXISTS parcel_index_checkpoint;
        CREATE TABLE IF NOT EXISTS parcels (
          tracking_number TEXT    PRIMARY KEY,
          case_id         TEXT    NOT NULL,
          ended           INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS parcels_case_id ON parcels (case_id);
        CREATE TABLE IF NOT EXISTS parcels_checkpoint (
          id       INTEGER PRIMARY KEY CHECK (id = 1),
          position INTEGER NOT NULL
        );
      ` });
    this.select = this.db.prepare('SELECT case_id, ended FROM parcels WHERE tracking_number = ?');
    this.readCheckpoint = this.db.prepare('SELECT position FROM parcels_checkpoint WHERE id = 1');
    this.openParcelOf = this.db.prepare<[string], number>('SELECT 1 FROM parcels WHERE case_id = ? AND ended = 0 LIMIT 1').pluck();
    // The first open case keeps its number: a later case may take it over only once that case has ended.
    const bind = this.db.prepare<[string, string]>(
      'INSERT INTO parcels (tracking_number, case_id, ended) VALUES (?, ?, 0) ' +
        'ON CONFLICT (tracking_number) DO UPDATE SET case_id = excluded.case_id, ended = 0 WHERE parcels.ended = 1',
    );
    const end = this.db.prepare<[string]>('UPDATE parcels SET ended = 1 WHERE case_id = ?');
    const move = this.db.prepare<[number]>(
      'INSERT INTO parcels_checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = MAX(position, excluded.position)',
    );
    this.write = this.db.transaction((changes: readonly ParcelChange[], position: number) => {
      for (const change of changes) {
        if (isCaseEnded(change)) end.run(change.caseEnded);
        else bind.run(change.trackingNumber, change.caseId);
      }
      move.run(position);
    });
  }

  async caseFor(trackingNumber: string): Promise<string | undefined> {
    return this.select.get(trackingNumber)?.case_id;
  }

  async binding(trackingNumber: string): Promise<ParcelBinding | undefined> {
    const row = this.select.get(trackingNumber);
    return row ? { caseId: row.case_id, open: row.ended === 0 } : undefined;
  }

  async holdsParcels(caseId: string): Promise<boolean> {
    return this.openParcelOf.get(caseId) !== undefined;
  }

  async checkpoint(): Promise<number> {
    return this.readCheckpoint.get()?.position ?? 0;
  }

  async record(changes: readonly ParcelChange[], position: number): Promise<void> {
    this.write(changes, position);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
