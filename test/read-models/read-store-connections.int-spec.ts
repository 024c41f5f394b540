import { Client } from 'pg';
import { pingReadStore } from '@aftersales/read-models';
import { openTestReadStore, type TestReadStore } from './support/read-stores';

const onPostgres = process.env.DATABASE_URL ? describe : describe.skip;

/**
 * A PostgreSQL restart or failover ends the pool's idle connections under it.
 * The pool reports that as an 'error' event; unheard, it ends the process.
 */
onPostgres('the PostgreSQL read store when the server ends its idle connections', () => {
  let t: TestReadStore;

  beforeEach(async () => {
    t = await openTestReadStore('postgres');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('keeps answering on fresh connections', async () => {
    await Promise.all([pingReadStore(t.store), pingReadStore(t.store), pingReadStore(t.store)]);
    const url = t.readStoreConfig.kind === 'postgres' ? t.readStoreConfig.databaseUrl : '';
    const admin = new Client({ connectionString: url });
    await admin.connect();
    try {
      const ended = await admin.query<{ ended: boolean }>(
        'select pg_terminate_backend(pid) as ended from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      expect(ended.rows.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // Let the terminations reach the idle clients before the next query.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(pingReadStore(t.store)).resolves.toBeUndefined();
  });
});
