import type { Kysely, Transaction } from 'kysely';
import type { Projection } from '../projections/projection';
import type { ReadStoreDialect } from '../store/read-store';
import type { ReadModelTables } from '../store/tables';

export interface Checkpoint {
  name: string;
  version: number;
  position: number;
  updatedAt: string;
}

/**
 * The projection's checkpoint, locked for the rest of the transaction on
 * PostgreSQL (SQLite's BEGIN IMMEDIATE holds the whole file already): two
 * writers of one projection can then never both apply the same events.
 */
export async function lockedCheckpoint(trx: Transaction<ReadModelTables>, name: string, dialect: ReadStoreDialect): Promise<number | undefined> {
  let query = trx.selectFrom('rm_checkpoints').select('position').where('name', '=', name);
  if (dialect === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row?.position;
}

export async function storeCheckpoint(trx: Transaction<ReadModelTables>, name: string, version: number, position: number): Promise<void> {
  await trx
    .insertInto('rm_checkpoints')
    .values({ name, version, position, updated_at: new Date().toISOString() })
    .onConflict((oc) => oc.column('name').doUpdateSet({ version, position, updated_at: new Date().toISOString() }))
    .execute();
}

/**
 * Makes the projection's tables match its version and returns its
 * checkpoint: tables missing → created, from position 0; a checkpoint of
 * another version → its tables dropped and created again, from position 0.
 */
export async function prepareProjection(db: Kysely<ReadModelTables>, projection: Projection, dialect: ReadStoreDialect): Promise<number> {
  return db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('rm_checkpoints').select(['version', 'position']).where('name', '=', projection.name);
    if (dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (row && row.version === projection.version) return row.position;
    for (const table of projection.tables) await trx.schema.dropTable(table).ifExists().execute();
    await projection.createTables(trx, dialect);
    await storeCheckpoint(trx, projection.name, projection.version, 0);
    return 0;
  });
}

export async function readCheckpoints(db: Kysely<ReadModelTables>, names?: readonly string[]): Promise<Checkpoint[]> {
  let query = db.selectFrom('rm_checkpoints').select(['name', 'version', 'position', 'updated_at']).orderBy('name');
  if (names) query = query.where('name', 'in', names.length > 0 ? [...names] : ['']);
  const rows = await query.execute();
  return rows.map((r) => ({ name: r.name, version: r.version, position: r.position, updatedAt: r.updated_at }));
}
