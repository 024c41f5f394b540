import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseStream, type RecordedCaseEvent } from '@aftersales/domain';
import { ACTORS, World, act, request } from '@aftersales/domain/testing';
import { SqliteEventStore, type StoredEvent } from '@aftersales/event-store';
import { CaseWorkPlanner, WorkStore } from '@aftersales/scheduling';

// The planner keeps the states it folded in memory while no other process
// applies the log: it then reads neither the stored state nor the stream of
// a case it knows, and whatever another process stores wins over its memory.

describe('CaseWorkPlanner memory', () => {
  let dir: string;
  let path: string;
  let store: SqliteEventStore;
  let appended = 0;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'planner-memory-'));
    path = join(dir, 'aftersales.db');
    store = new SqliteEventStore({ path });
    appended = 0;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function record(world: World, caseId = 'c1'): Promise<StoredEvent[]> {
    const events = world.events(caseId).slice(appended);
    const head = appended;
    await store.append(
      caseStream(caseId),
      events.map((e: RecordedCaseEvent) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: { occurredAt: e.metadata?.occurredAt } })),
      { expectedRevision: head === 0 ? 'no_stream' : head - 1 },
    );
    appended += events.length;
    return (await store.readStream(caseStream(caseId))).slice(head);
  }

  const opened = () =>
    new World().delivered().run(request({ kind: 'return_and_refund', reason: 'quality_defect', pickup: false, evidence: ['https://e/x.jpg'], lines: [{ lineId: 'L1', quantity: 2 }], requestedAmount: 20_000 }));
  const pendingKeys = (work: WorkStore) => work.pending(undefined, 100).map((w) => w.key);

  it('folds the next events of a case it folded itself without reading its stored state', async () => {
    const work = new WorkStore(path);
    const planner = new CaseWorkPlanner(store, work);
    const world = opened();
    const first = await record(world);
    await planner.apply(first, first.at(-1)!.position);

    const read = jest.spyOn(work, 'caseStates');
    world.run(act('approve', ACTORS.merchant));
    const second = await record(world);
    const changes = await planner.apply(second, second.at(-1)!.position);

    expect(changes?.removed).toEqual([expect.stringMatching(/^deadline-c1-merchantResponse-/)]);
    expect(pendingKeys(work)).toEqual([expect.stringMatching(/^deadline-c1-buyerShipBack-\d+$/)]);
    for (const [caseIds] of read.mock.calls) expect(caseIds).toEqual([]);
    work.close();
  });

  it('takes the state another process stored over the one it remembers', async () => {
    const [workA, workB] = [new WorkStore(path), new WorkStore(path)];
    const [plannerA, plannerB] = [new CaseWorkPlanner(store, workA), new CaseWorkPlanner(store, workB)];
    const world = opened();
    const first = await record(world);
    await plannerA.apply(first, first.at(-1)!.position);

    // B applies the approval; A still remembers the case awaiting the merchant.
    world.run(act('approve', ACTORS.merchant));
    const second = await record(world);
    await plannerB.apply(second, second.at(-1)!.position);
    expect(pendingKeys(workA)).toEqual([expect.stringMatching(/^deadline-c1-buyerShipBack-/)]);

    world.run(act('withdraw', ACTORS.buyer));
    expect(world.state().status).toBe('closed');
    const third = await record(world);
    const changes = await plannerA.apply(third, third.at(-1)!.position);

    // Folded onto B's state: the ship-back deadline ends, and nothing is owed.
    expect(changes?.removed).toEqual([expect.stringMatching(/^deadline-c1-buyerShipBack-/)]);
    expect(pendingKeys(workA)).toEqual([]);
    workA.close();
    workB.close();
  });
});
