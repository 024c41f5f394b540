import { sql, type Kysely, type Transaction } from 'kysely';
import type { ReadStore } from './read-store';
import type { ReadModelTables } from './tables';

/** The key of the store's own transaction-scoped advisory locks on PostgreSQL ('RM'). */
export const ADVISORY_LOCK_CLASS = 0x524d;

interface Migration {
  version: number;
  up(db: Transaction<ReadModelTables>): Promise<void>;
}

/**
 * The store's shared tables, in order; never edit one that has shipped, add
 * the next. A projection's own tables are not here: each projection creates
 * them for its version and recreates them (from position 0) when its version
 * changes (projection-tables.ts), so a new projection shape is a rebuild, not
 * a migration.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    async up(db) {
      await db.schema
        .createTable('rm_checkpoints')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('rm_leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];

/**
 * Brings the store's schema to the latest version, in one transaction that
 * holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
 * lock), so processes starting together apply each migration once.
 */
export async function migrateReadStore(store: ReadStore): Promise<number> {
  return store.db.transaction().execute(async (trx) => {
    if (store.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${ADVISORY_LOCK_CLASS}, 0)`.execute(trx);
    await trx.schema
      .createTable('rm_schema')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('applied_at', 'text', (c) => c.notNull())
      .execute();
    const applied = await currentVersion(trx);
    for (const migration of MIGRATIONS) {
      if (migration.version <= applied) continue;
      await migration.up(trx);
      await trx.insertInto('rm_schema').values({ version: migration.version, applied_at: new Date().toISOString() }).execute();
    }
    return MIGRATIONS[MIGRATIONS.length - 1].version;
  });
}

async function currentVersion(db: Kysely<ReadModelTables>): Promise<number> {
  const row = await db.selectFrom('rm_schema').select((eb) => eb.fn.max('version').as('version')).executeTakeFirst();
  return Number(row?.version ?? 0);
}
