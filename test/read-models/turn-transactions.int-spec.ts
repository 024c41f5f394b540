import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import { writeTransaction } from '@aftersales/read-models';
import { openTestReadStore, type TestReadStore } from './support/read-stores';

// The projections of a process are woken by the same new events and each
// store a batch in a write transaction of its own; on SQLite those asked for
// in one turn of the event loop share one COMMIT, each body in a savepoint.

describe('SQLite write transactions asked for in one turn', () => {
  let t: TestReadStore;
  let other: Database.Database;
  const insert = (value: number) => CompiledQuery.raw(`INSERT INTO turn_test (value) VALUES (${value})`);
  /** What another connection (another process) sees committed. */
  const committed = () => (other.prepare('SELECT value FROM turn_test ORDER BY value').pluck().all() as number[]);

  beforeEach(async () => {
    t = await openTestReadStore('sqlite');
    t.store.sqlite!.exec('CREATE TABLE turn_test (value INTEGER NOT NULL)');
    other = new Database(join(t.dir, 'aftersales.db'), { readonly: true });
  });
  afterEach(async () => {
    other.close();
    await t.cleanup();
  });

  it('commit together: a later body runs before the earlier one is committed, and each gets its own result', async () => {
    let seenByOthersDuringSecond: number[] | undefined;
    const first = writeTransaction(t.store, function* () {
      yield insert(1);
      return 'first';
    });
    const second = writeTransaction(t.store, function* () {
      seenByOthersDuringSecond = committed();
      yield insert(2);
      return 'second';
    });
    await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second']);
    // One transaction: the first body's row was not committed yet while the second ran.
    expect(seenByOthersDuringSecond).toEqual([]);
    expect(committed()).toEqual([1, 2]);
  });

  it('roll back a body that throws alone: its caller gets the error, the others are kept', async () => {
    const kept = writeTransaction(t.store, function* () {
      yield insert(1);
    });
    const failed = writeTransaction(t.store, function* () {
      yield insert(2);
      throw new Error('checkpoint moved');
    });
    const alsoKept = writeTransaction(t.store, function* () {
      yield insert(3);
    });
    await expect(failed).rejects.toThrow('checkpoint moved');
    await Promise.all([kept, alsoKept]);
    expect(committed()).toEqual([1, 3]);
  });

  it('run a body asked for after a turn has passed in a transaction of its own', async () => {
    await writeTransaction(t.store, function* () {
      yield insert(1);
    });
    let seen: number[] | undefined;
    await writeTransaction(t.store, function* () {
      seen = committed();
      yield insert(2);
    });
    expect(seen).toEqual([1]);
    expect(committed()).toEqual([1, 2]);
  });
});
