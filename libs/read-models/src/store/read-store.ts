import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Pool, types as pgTypeParsers, type PoolConfig } from 'pg';
import type { AppConfig } from '@aftersales/config';
import type { ReadModelTables } from './tables';

export type ReadStoreDialect = 'sqlite' | 'postgres';

/**
 * The read models' database. `db` answers queries (and builds the
 * statements writes run: see write-transaction.ts); on SQLite `sqlite` is the
 * same connection, which writes use synchronously.
 */
export interface ReadStore {
  readonly dialect: ReadStoreDialect;
  readonly db: Kysely<ReadModelTables>;
  readonly sqlite?: Database.Database;
  /** PostgreSQL: where to open a dedicated connection (advisory locks live as long as it does). */
  readonly databaseUrl?: string;
  close(): Promise<void>;
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const toNumber = (value: string): number => Number(value);

/**
 * Positions, amounts and sums are `bigint` (or `numeric`) on PostgreSQL; pg
 * hands those back as strings unless told otherwise. Every value here stays
 * below 2^53. Set per pool, so no other pg user in the process is affected.
 */
export const pgTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8 || oid === PG_NUMERIC ? toNumber : pgTypeParsers.getTypeParser(oid, format ?? 'text'),
} as NonNullable<PoolConfig['types']>;

/**
 * Opens the read store `config.readStore` names. On SQLite, its own
 * connection to the events' file (API.md: "events and read models file"), in
 * WAL mode with synchronous NORMAL: read models can be rebuilt, so losing the
 * last commit in a power cut costs a replay, not an answer.
 */
export function openReadStore(readStore: AppConfig['readStore']): ReadStore {
  if (readStore.kind === 'postgres') {
    const pool = new Pool({ connectionString: readStore.databaseUrl, max: 10, types: pgTypes });
    // An idle connection the server ends (a restart, a failover, a database
    // dropped with FORCE while a closing client is still saying goodbye) is
    // reported here; the pool opens a fresh one on the next query. With no
    // listener the error is thrown and ends the process.
    pool.on('error', (error) => new Logger('ReadStore').warn(`an idle PostgreSQL connection failed: ${error.message}`));
    const db = new Kysely<ReadModelTables>({ dialect: new PostgresDialect({ pool }) });
    return { dialect: 'postgres', db, databaseUrl: readStore.databaseUrl, close: () => db.destroy() };
  }
  const database = openSqlite(readStore.sqlitePath);
  // Kysely's driver prepares every query it runs; this hands it the statement prepared last time for the same text.
  const cached = { prepare: (text: string) => preparedStatement(database, text), close: () => database.close() };
  const db = new Kysely<ReadModelTables>({ dialect: new SqliteDialect({ database: cached }) });
  const optimizing = setInterval(() => optimizeSqlite(database), OPTIMIZE_EVERY_MS).unref();
  return {
    dialect: 'sqlite',
    db,
    sqlite: database,
    close: () => {
      clearInterval(optimizing);
      return db.destroy();
    },
  };
}

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();
/** Distinct statement texts kept per connection; the oldest goes first. */
const STATEMENT_CACHE = 500;

/**
 * The connection's statement for `text`, prepared once: reads and writes
 * of the read models repeat a small set of texts (see row-statements.ts),
 * and preparing is what a batch or a query would otherwise spend most on.
 */
export function preparedStatement(database: Database.Database, text: string): Database.Statement {
  let cache = statements.get(database);
  if (!cache) statements.set(database, (cache = new Map()));
  let statement = cache.get(text);
  if (!statement) {
    statement = database.prepare(text);
    if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
    cache.set(text, statement);
  }
  return statement;
}

function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new Database(path, { timeout: 5000 });
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    // The event store's own thread copies the log back (WalCheckpointer); this is the same backstop it keeps.
    database.pragma('wal_autocheckpoint = 10000');
    // ANALYZE reads about this many rows of each index, not all of them (SQLite's advice for optimize).
    database.pragma('analysis_limit = 1000');
    optimizeSqlite(database, { everyTable: true });
    return database;
  } catch (error) {
    database.close();
    throw error;
  }
}

/** How often a long-lived connection refreshes the planner's statistics (SQLite's advice: hourly or daily). */
const OPTIMIZE_EVERY_MS = 3_600_000;

/**
 * `PRAGMA optimize`: gathers the statistics SQLite's planner chooses
 * indexes by (ANALYZE, bounded to a sample) for tables that have none or
 * have grown much. Without them a list filtered by buyer and status may
 * walk the status index through every case of that status. `everyTable`
 * looks at all tables, as when a connection opens or a rebuild swapped
 * tables in, not only those this connection has read.
 */
export function optimizeSqlite(database: Database.Database, options: { everyTable?: boolean } = {}): void {
  try {
    database.pragma(options.everyTable ? 'optimize = 0x10002' : 'optimize');
  } catch (error) {
    // Statistics only help the planner: a busy file is no reason to fail.
    new Logger('ReadStore').warn(`PRAGMA optimize failed: ${(error as Error).message}`);
  }
}

/** Planner statistics for these tables only, each from a bounded sample of its indexes. */
export function analyzeSqlite(database: Database.Database, tables: readonly string[]): void {
  try {
    for (const table of tables) database.exec(`ANALYZE "${table.replace(/"/g, '""')}"`);
  } catch (error) {
    new Logger('ReadStore').warn(`ANALYZE failed: ${(error as Error).message}`);
  }
}

/** One round trip to the read store (health checks). */
export async function pingReadStore(store: ReadStore): Promise<void> {
  await sql`select 1`.execute(store.db);
}
