import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL server these tests may use, or undefined: they then skip, saying so. */
export const DATABASE_URL = process.env.DATABASE_URL || undefined;

export interface TestDatabase {
  /** The database's own URL: the server's with the path replaced. */
  url: string;
  /** Runs one statement in the database (to inspect or clear what the code under test wrote). */
  query<T extends Record<string, unknown>>(statement: string, parameters?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/**
 * A database of the test's own on the DATABASE_URL server, created through
 * the database the URL names, and dropped (its connections closed) at the end.
 */
export async function createTestDatabase(prefix = 'aftersales_test'): Promise<TestDatabase> {
  if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const serverUrl = DATABASE_URL;
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await run(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    query: async <T extends Record<string, unknown>>(statement: string, parameters: unknown[] = []) => run<T>(url.toString(), statement, parameters),
    drop: async () => void (await run(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function run<T extends Record<string, unknown>>(url: string, statement: string, parameters: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(statement, parameters)).rows;
  } finally {
    await client.end();
  }
}
