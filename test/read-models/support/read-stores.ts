import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrateReadStore, openReadStore, type ReadStore, type ReadStoreDialect } from '@aftersales/read-models';

/** SQLite in every run; PostgreSQL too whenever DATABASE_URL names a server. */
export const DIALECTS: ReadStoreDialect[] = process.env.DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestReadStore {
  store: ReadStore;
  /** For a second connection (another "process"): the same config. */
  readStoreConfig: Parameters<typeof openReadStore>[0];
  /** The folder of the SQLite file (also where a test may put its event store). */
  dir: string;
  cleanup(): Promise<void>;
}

/**
 * A migrated read store of the test's own: a fresh SQLite file, or a fresh
 * PostgreSQL database created on the DATABASE_URL server and dropped after.
 */
export async function openTestReadStore(dialect: ReadStoreDialect): Promise<TestReadStore> {
  const dir = mkdtempSync(join(tmpdir(), 'read-models-'));
  const sqlitePath = join(dir, 'aftersales.db');
  if (dialect === 'sqlite') {
    const readStoreConfig = { kind: 'sqlite' as const, sqlitePath };
    const store = openReadStore(readStoreConfig);
    await migrateReadStore(store);
    return {
      store,
      readStoreConfig,
      dir,
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const database = await createTestDatabase();
  const readStoreConfig = { kind: 'postgres' as const, databaseUrl: database.url, sqlitePath };
  const store = openReadStore(readStoreConfig);
  await migrateReadStore(store);
  return {
    store,
    readStoreConfig,
    dir,
    async cleanup() {
      await store.close();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A database of the test's own on the DATABASE_URL server, and how to drop it. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL ?? '';
  const name = `rm_test_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(serverUrl, `drop database if exists ${name} with (force)`) };
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
