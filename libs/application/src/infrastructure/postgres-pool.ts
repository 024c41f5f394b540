import { Logger } from '@nestjs/common';
import { Pool, types as pgTypeParsers, type PoolClient, type PoolConfig } from 'pg';

const PG_INT8 = 20;

/**
 * Times (epoch milliseconds) and positions are `bigint` columns; pg hands
 * those back as strings unless told otherwise. Every value kept here stays
 * below 2^53. Set per pool, so no other pg user in the process is affected.
 */
const int8AsNumber = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8 ? (value: string) => Number(value) : pgTypeParsers.getTypeParser(oid, format ?? 'text'),
} as NonNullable<PoolConfig['types']>;

export interface PostgresPoolOptions {
  connectionString: string;
  /** Who holds the connections, as pg_stat_activity shows them. */
  applicationName: string;
  max?: number;
}

/**
 * A pg.Pool for one store's tables. A store owns its pool (and ends it on
 * close), so the stores stay independent of each other's lifecycles; each
 * keeps `max` small.
 */
export function openPostgresPool(options: PostgresPoolOptions): Pool {
  const pool = new Pool({
    connectionString: options.connectionString,
    application_name: options.applicationName,
    max: options.max ?? 4,
    types: int8AsNumber,
  });
  const logger = new Logger(options.applicationName);
  // An idle connection the server dropped (a restart, a failover) is reported
  // here; the pool opens a fresh one on the next query. Without a listener
  // the error would be thrown and end the process.
  pool.on('error', (error) => logger.warn(`an idle PostgreSQL connection failed: ${error.message}`));
  return pool;
}

/** Runs `work` between BEGIN and COMMIT on one connection; ROLLBACK if it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    // A connection that could not roll back is not handed to the next caller.
    client.release(broken);
  }
}

/**
 * Creates a store's tables (`CREATE ... IF NOT EXISTS`). Two processes
 * starting together would otherwise race on the catalog (a unique violation
 * on pg_type); a transaction-scoped advisory lock on the store's name lets
 * one create while the other waits and then finds the tables there.
 */
export async function createPostgresSchema(pool: Pool, name: string, statements: readonly string[]): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`aftersales-schema:${name}`]);
    for (const statement of statements) await client.query(statement);
  });
}
