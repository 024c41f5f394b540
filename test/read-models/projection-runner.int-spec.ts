import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SqliteEventStore, type StoredEvent } from '@aftersales/event-store';
import {
  caseListProjection,
  CASE_LIST,
  migrateReadStore,
  openReadStore,
  PROJECTIONS,
  ProjectionRunner,
  projectionLock,
  readCheckpoint,
  type AnyProjection,
  type ReadStore,
} from '@aftersales/read-models';
import { appendCase } from './support/case-events';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

const FAST = { retryMs: 50, leaseMs: 1000 };

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(DIALECTS)('projection runner on %s', (dialect) => {
  let t: TestReadStore;
  let events: SqliteEventStore;
  const runners: ProjectionRunner[] = [];
  const stores: ReadStore[] = [];
  const errors: string[] = [];

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
    events = new SqliteEventStore({ path: join(t.dir, 'aftersales.db') });
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    errors.length = 0;
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await events.close();
    await t.cleanup();
  });

  /** A runner as another projector process would have it: its own connection to the read store. */
  async function runner(projection: AnyProjection = caseListProjection, maxBatch = 50): Promise<ProjectionRunner> {
    const store = openReadStore(t.readStoreConfig);
    await migrateReadStore(store);
    stores.push(store);
    const created = new ProjectionRunner(store, events, projection, projectionLock(store, projection.name, FAST), {
      maxBatch,
      retryDelayMs: 50,
      onError: (_name, error) => errors.push(error.message),
    });
    runners.push(created);
    created.start();
    return created;
  }

  /** What the case_list rows say of each case's revision and priority: a lost or doubled step shows here. */
  async function listed(): Promise<Map<string, string>> {
    const rows = await t.store.db.selectFrom('rm_case_list').select(['case_id', 'revision', 'priority']).execute();
    return new Map(rows.map((r) => [r.case_id, `${r.revision}/${r.priority}`]));
  }

  const expectedRows = (cases: Array<[string, number]>) => new Map(cases.map(([id, steps]) => [id, `${steps - 1}/${Math.max(0, steps - 2)}`]));

  it('takes in the history, then live events, and resumes after a restart with nothing lost or doubled', async () => {
    const cases: Array<[string, number]> = [];
    for (let n = 0; n < 40; n += 1) {
      cases.push([`c${n}`, 2 + (n % 3)]);
      await appendCase(events, `c${n}`, n, 2 + (n % 3));
    }
    const first = await runner();
    await first.caughtUp();
    await until(async () => (await readCheckpoint(t.store.db, CASE_LIST)) === (await events.headPosition()));
    expect(await listed()).toEqual(expectedRows(cases));

    await first.stop();
    for (let n = 40; n < 60; n += 1) {
      cases.push([`c${n}`, 4]);
      await appendCase(events, `c${n}`, n, 4);
    }
    const second = await runner();
    const head = await events.headPosition();
    expect(await second.waitFor(head, 10_000)).toBe(true);
    expect(await listed()).toEqual(expectedRows(cases));
    expect(await readCheckpoint(t.store.db, CASE_LIST)).toBe(head);
  });

  it('stores a failed batch whole or not at all, and goes on from its checkpoint', async () => {
    let failures = 0;
    const flaky: AnyProjection = {
      ...caseListProjection,
      write(db, batch, loaded) {
        const statements = caseListProjection.write(db, batch, loaded);
        // The second batch fails after its statements were built: none of it may be kept.
        if (failures === 0 && batch.some((e: StoredEvent) => e.streamName === 'aftersales-c7')) {
          failures += 1;
          return [...statements, db.insertInto('rm_case_list').values({} as never).compile()];
        }
        return statements;
      },
    };
    const cases: Array<[string, number]> = [];
    for (let n = 0; n < 5; n += 1) {
      cases.push([`c${n}`, 3]);
      await appendCase(events, `c${n}`, n, 3);
    }
    const running = await runner(flaky, 9);
    await running.caughtUp();
    // Live events (the follower's subscription has caught up): a failure there resubscribes from the checkpoint.
    for (let n = 5; n < 12; n += 1) {
      cases.push([`c${n}`, 3]);
      await appendCase(events, `c${n}`, n, 3);
    }
    expect(await running.waitFor(await events.headPosition(), 10_000)).toBe(true);
    expect(failures).toBe(1);
    expect(errors).toHaveLength(1);
    expect(await listed()).toEqual(expectedRows(cases));
  });

  it('stops in the middle of catching up, and survives a failed batch there, without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      for (let n = 0; n < 300; n += 1) await appendCase(events, `c${n}`, n, 3);
      let failed = false;
      const failingOnce: AnyProjection = {
        ...caseListProjection,
        write(db, batch, loaded) {
          if (!failed) {
            failed = true;
            throw new Error('injected');
          }
          return caseListProjection.write(db, batch, loaded);
        },
      };
      const running = await runner(failingOnce, 1);
      await until(async () => (await readCheckpoint(t.store.db, CASE_LIST)) > 0);
      await running.stop();
      expect(await readCheckpoint(t.store.db, CASE_LIST)).toBeLessThan(await events.headPosition());
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(errors).toEqual(['injected']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('runs each projection in one process at a time; the other takes over when it stops', async () => {
    for (let n = 0; n < 10; n += 1) await appendCase(events, `c${n}`, n, 2);
    const a = await runner();
    await a.caughtUp();
    const b = await runner();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([a.active, b.active]).toEqual([true, false]);

    await a.stop();
    await until(() => b.active);
    await appendCase(events, 'c10', 10, 3);
    expect(await b.waitFor(await events.headPosition(), 10_000)).toBe(true);
    expect((await listed()).get('c10')).toBe('2/1');
  });

  it('resumes correctly when the active projector is killed in the middle of its work', async () => {
    const cases: Array<[string, number]> = [];
    for (let n = 0; n < 600; n += 1) {
      cases.push([`c${n}`, 3]);
      await appendCase(events, `c${n}`, n, 3);
    }
    const support = join(__dirname, 'support');
    const child: ChildProcess = spawn(
      process.execPath,
      ['-r', join(support, 'register.js'), join(support, 'projector-child.ts'), join(t.dir, 'aftersales.db'), JSON.stringify(t.readStoreConfig), '20'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await until(() => output.includes(`${CASE_LIST} active`), 20_000);
      // Killed while it is still working through the backlog (batches of 20).
      await until(async () => (await readCheckpoint(t.store.db, CASE_LIST)) > 0, 20_000);
      expect(await readCheckpoint(t.store.db, CASE_LIST)).toBeLessThan(await events.headPosition());
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const takers = await Promise.all(PROJECTIONS.map((p) => runner(p, 200)));
    const head = await events.headPosition();
    for (const taker of takers) expect(await taker.waitFor(head, 20_000)).toBe(true);
    expect(await listed()).toEqual(expectedRows(cases));
    const timeline = await t.store.db.selectFrom('rm_case_timeline').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(timeline.n)).toBe(600 * 3);
  }, 60_000);
});
