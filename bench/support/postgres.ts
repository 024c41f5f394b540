import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** A read store configuration on a PostgreSQL database of the benchmark's own. */
export interface BenchPostgres {
  kind: 'postgres';
  databaseUrl: string;
  sqlitePath: string;
}

/**
 * Runs `work` on a new database of the DATABASE_URL server, dropped
 * afterwards whatever happens (the benchmark touches no data it did not
 * create); `undefined` without DATABASE_URL, when there is no PostgreSQL run.
 */
export async function withPostgres<T>(work: (readStore: BenchPostgres) => Promise<T>): Promise<T | undefined> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return undefined;
  const database = `rm_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${database}`);
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  try {
    return await work({ kind: 'postgres', databaseUrl: url.toString(), sqlitePath: '' });
  } finally {
    await admin(`drop database if exists ${database} with (force)`);
  }
}
