import type { CompiledQuery, Kysely } from 'kysely';
import type { AnyProjection } from '../projections/projection';
import type { ReadStore, ReadStoreDialect } from '../store/read-store';
import type { ReadModelTables } from '../store/tables';
import { writeTransaction } from '../store/write-transaction';

export interface Checkpoint {
  name: string;
  version: number;
  position: number;
  updatedAt: string;
}

/**
 * The statement reading a projection's checkpoint inside a write
 * transaction, locking the row on PostgreSQL (SQLite's BEGIN IMMEDIATE holds
 * the whole file already): two writers of one projection never both store.
 */
export function checkpointForUpdate(db: Kysely<ReadModelTables>, name: string, dialect: ReadStoreDialect): CompiledQuery {
  let query = db.selectFrom('rm_checkpoints').select(['version', 'position']).where('name', '=', name);
  if (dialect === 'postgres') query = query.forUpdate();
  return query.compile();
}

export function storeCheckpoint(db: Kysely<ReadModelTables>, name: string, version: number, position: number): CompiledQuery {
  const updatedAt = new Date().toISOString();
  return db
    .insertInto('rm_checkpoints')
    .values({ name, version, position, updated_at: updatedAt })
    .onConflict((oc) => oc.column('name').doUpdateSet({ version, position, updated_at: updatedAt }))
    .compile();
}

/**
 * Makes the projection's tables match its version and returns its
 * checkpoint: tables missing → created, from position 0; a checkpoint of
 * another version → its tables dropped and created again, from position 0.
 */
export async function prepareProjection(store: ReadStore, projection: AnyProjection): Promise<number> {
  const { db } = store;
  return writeTransaction(store, function* () {
    const row = (yield checkpointForUpdate(db, projection.name, store.dialect)).rows[0] as { version: number; position: number } | undefined;
    if (row && Number(row.version) === projection.version) return Number(row.position);
    for (const table of projection.tables) yield db.schema.dropTable(table).ifExists().compile();
    for (const statement of [...projection.createTables(db), ...projection.indexes(db)]) yield statement.compile();
    yield storeCheckpoint(db, projection.name, projection.version, 0);
    return 0;
  });
}

export async function readCheckpoint(db: Kysely<ReadModelTables>, name: string): Promise<number> {
  const row = await db.selectFrom('rm_checkpoints').select('position').where('name', '=', name).executeTakeFirst();
  return row?.position ?? 0;
}

export async function readCheckpoints(db: Kysely<ReadModelTables>, names?: readonly string[]): Promise<Checkpoint[]> {
  let query = db.selectFrom('rm_checkpoints').select(['name', 'version', 'position', 'updated_at']).orderBy('name');
  if (names) query = query.where('name', 'in', names.length > 0 ? [...names] : ['']);
  const rows = await query.execute();
  return rows.map((r) => ({ name: r.name, version: r.version, position: r.position, updatedAt: r.updated_at }));
}
