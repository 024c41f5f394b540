import { sql, type Compilable, type CompiledQuery, type Kysely } from 'kysely';
import type { ReadStore } from './read-store';
import type { ReadModelTables } from './tables';
import { writeTransaction } from './write-transaction';

/** The key of the store's own advisory locks on PostgreSQL ('RM'). */
export const ADVISORY_LOCK_CLASS = 0x524d;

interface Migration {
  version: number;
  /** The statements, built (not run) by the Kysely instance given. */
  up(db: Kysely<ReadModelTables>): Compilable[];
}

/**
 * The store's shared tables, in order; never edit one that has shipped, add
 * the next. A projection's own tables are not here: each projection creates
 * them for its version and recreates them (from position 0) when its version
 * changes (runner/checkpoints.ts), so a new projection shape is a rebuild,
 * not a migration.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) => [
      db.schema
        .createTable('rm_checkpoints')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull()),
      db.schema
        .createTable('rm_leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull()),
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings the store's schema to the latest version in one transaction that
 * holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
 * lock), so processes starting together apply each migration once.
 */
export async function migrateReadStore(store: ReadStore): Promise<number> {
  const { db } = store;
  const compiled = (queries: Compilable[]): CompiledQuery[] => queries.map((q) => q.compile());
  const lock = sql`select pg_advisory_xact_lock(${ADVISORY_LOCK_CLASS}, 0)`.compile(db);
  const createSchemaTable = db.schema
    .createTable('rm_schema')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .compile();
  const appliedQuery = db.selectFrom('rm_schema').select((eb) => eb.fn.max('version').as('version')).compile();
  return writeTransaction(store, function* () {
    if (store.dialect === 'postgres') yield lock;
    yield createSchemaTable;
    const applied = Number((yield appliedQuery).rows[0]?.version ?? 0);
    for (const migration of MIGRATIONS) {
      if (migration.version <= applied) continue;
      for (const statement of compiled(migration.up(db))) yield statement;
      yield db.insertInto('rm_schema').values({ version: migration.version, applied_at: new Date().toISOString() }).compile();
    }
    return LATEST_SCHEMA_VERSION;
  });
}
