import type { Pool } from 'pg';
import { createPostgresSchema, inTransaction, openPostgresPool } from '../infrastructure/postgres-pool';
import { isCaseEnded, type ParcelBinding, type ParcelChange, type ParcelIndex } from './parcel-index';

export interface PostgresParcelIndexOptions {
  /** The PostgreSQL database (DATABASE_URL); this index keeps to its own `api_parcels*` tables. */
  databaseUrl: string;
  maxConnections?: number;
}

const PARCELS = 'api_parcels';
const CHECKPOINT = 'api_parcels_checkpoint';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ${PARCELS} (
     tracking_number TEXT    PRIMARY KEY,
     case_id         TEXT    NOT NULL,
     ended           BOOLEAN NOT NULL DEFAULT FALSE
   )`,
  `CREATE INDEX IF NOT EXISTS ${PARCELS}_case_id ON ${PARCELS} (case_id)`,
  `CREATE TABLE IF NOT EXISTS ${CHECKPOINT} (
     id       INTEGER PRIMARY KEY CHECK (id = 1),
     position BIGINT  NOT NULL
   )`,
  // The row every write locks: it exists from the start, so there is always something to lock.
  `INSERT INTO ${CHECKPOINT} (id, position) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
];

/**
 * The parcel index in PostgreSQL, shared by every API process: a tracking
 * number registered through any of them is found by all. Same rules as
 * SqliteParcelIndex: the first open case keeps its number, an ended case
 * still answers for it until another case registers it.
 *
 * Each API process follows the event log into it (ParcelIndexProjector), so
 * several writers apply the same events. A write locks the checkpoint row
 * and applies its changes only if its position is past the checkpoint:
 * events one process applied already are not applied again by another that
 * is behind (replaying an old binding over a newer end would bring a closed
 * case's hold on a number back). Rows and checkpoint commit together.
 */
export class PostgresParcelIndex implements ParcelIndex {
  private closing: Promise<void> | undefined;

  private constructor(private readonly pool: Pool) {}

  /** Connects and creates the tables if they are not there yet. */
  static async open(options: PostgresParcelIndexOptions): Promise<PostgresParcelIndex> {
    const pool = openPostgresPool({ connectionString: options.databaseUrl, applicationName: 'aftersales-parcel-index', max: options.maxConnections ?? 4 });
    try {
      await createPostgresSchema(pool, PARCELS, SCHEMA);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresParcelIndex(pool);
  }

  async caseFor(trackingNumber: string): Promise<string | undefined> {
    return (await this.binding(trackingNumber))?.caseId;
  }

  async binding(trackingNumber: string): Promise<ParcelBinding | undefined> {
    const { rows } = await this.pool.query<{ case_id: string; ended: boolean }>(`SELECT case_id, ended FROM ${PARCELS} WHERE tracking_number = $1`, [trackingNumber]);
    return rows[0] ? { caseId: rows[0].case_id, open: !rows[0].ended } : undefined;
  }

  async holdsParcels(caseId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM ${PARCELS} WHERE case_id = $1 AND NOT ended LIMIT 1`, [caseId]);
    return (rowCount ?? 0) > 0;
  }

  async checkpoint(): Promise<number> {
    const { rows } = await this.pool.query<{ position: number }>(`SELECT position FROM ${CHECKPOINT} WHERE id = 1`);
    return rows[0]?.position ?? 0;
  }

  async record(changes: readonly ParcelChange[], position: number): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ position: number }>(`SELECT position FROM ${CHECKPOINT} WHERE id = 1 FOR UPDATE`);
      // Taken in already, by this process before a restart or by another following the same log.
      if ((rows[0]?.position ?? 0) >= position) return;
      for (const change of changes) {
        if (isCaseEnded(change)) {
          await client.query(`UPDATE ${PARCELS} SET ended = TRUE WHERE case_id = $1`, [change.caseEnded]);
        } else {
          // The first open case keeps its number: a later case may take it over only once that case has ended.
          await client.query(
            `INSERT INTO ${PARCELS} (tracking_number, case_id, ended) VALUES ($1, $2, FALSE)
             ON CONFLICT (tracking_number) DO UPDATE SET case_id = excluded.case_id, ended = FALSE WHERE ${PARCELS}.ended`,
            [change.trackingNumber, change.caseId],
          );
        }
      }
      await client.query(`UPDATE ${CHECKPOINT} SET position = $1 WHERE id = 1`, [position]);
    });
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}
