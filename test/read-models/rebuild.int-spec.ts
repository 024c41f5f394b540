import { join } from 'node:path';
import { SqliteEventStore } from '@aftersales/event-store';
import {
  caseListProjection,
  caseTimelineProjection,
  migrateReadStore,
  openReadStore,
  ProjectionRunner,
  projectionLock,
  readCheckpoint,
  rebuildProjection,
  rebuildProjections,
  type AnyProjection,
  type RebuildProgress,
  type ReadStore,
} from '@aftersales/read-models';
import { appendRandomHistories } from './support/random-histories';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

/** Every row of the projection's tables, in a stable order: what "equal" means here. */
async function rowsOf(store: ReadStore, projection: AnyProjection): Promise<unknown[]> {
  const all: unknown[] = [];
  for (const table of projection.tables) {
    const rows = await store.db.selectFrom(table).selectAll().execute();
    all.push(...rows.map((row) => JSON.stringify(row)).sort());
  }
  return all;
}

describe.each(DIALECTS)('rebuild on %s', (dialect) => {
  let t: TestReadStore;
  let events: SqliteEventStore;
  let live: ProjectionRunner[] = [];
  let liveStore: ReadStore;

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
    events = new SqliteEventStore({ path: join(t.dir, 'aftersales.db') });
    liveStore = openReadStore(t.readStoreConfig);
    await migrateReadStore(liveStore);
  });
  afterEach(async () => {
    await Promise.all(live.map((r) => r.stop()));
    live = [];
    await liveStore.close();
    await events.close();
    await t.cleanup();
  });

  it('rebuilds tables equal to the live ones after a random history, while the live runner keeps going', async () => {
    const first = await appendRandomHistories(events, 30, 11);
    expect(first).toBeGreaterThan(100);
    live = [caseListProjection, caseTimelineProjection].map((projection) => {
      const runner = new ProjectionRunner(liveStore, events, projection, projectionLock(liveStore, projection.name, { retryMs: 50 }), { maxBatch: 37, retryDelayMs: 50 });
      runner.start();
      return runner;
    });
    for (const runner of live) expect(await runner.waitFor(await events.headPosition(), 20_000)).toBe(true);

    for (const projection of [caseListProjection, caseTimelineProjection]) {
      const before = await rowsOf(t.store, projection);
      expect(before.length).toBeGreaterThan(0);
      const progress: RebuildProgress[] = [];
      const result = await rebuildProjection(t.store, events, projection, { batchSize: 100, onProgress: (p) => progress.push(p) });
      expect(result.position).toBe(await events.headPosition());
      expect(progress.length).toBeGreaterThan(1);
      expect(progress.at(-1)).toMatchObject({ position: result.position, head: result.position });
      expect(await rowsOf(t.store, projection)).toEqual(before);
      expect(await readCheckpoint(t.store.db, projection.name)).toBe(result.position);
    }

    // The live runners go on writing into the swapped-in tables, and a second rebuild still agrees.
    await appendRandomHistories(events, 10, 12, 'x');
    for (const runner of live) expect(await runner.waitFor(await events.headPosition(), 20_000)).toBe(true);
    const both = [caseListProjection, caseTimelineProjection];
    const afterMore = await Promise.all(both.map((p) => rowsOf(t.store, p)));
    // Both in one pass over the log this time.
    await rebuildProjections(t.store, events, both);
    expect(await Promise.all(both.map((p) => rowsOf(t.store, p)))).toEqual(afterMore);
  }, 60_000);
});
