import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseStream, type RecordedCaseEvent } from '@aftersales/domain';
import { ACTORS, World, act, request } from '@aftersales/domain/testing';
import { SqliteEventStore, type StoredEvent } from '@aftersales/event-store';
import { CaseWorkPlanner, WorkStore } from '@aftersales/scheduling';

// The planner keeps the states it folded in memory while no other process
// applies the log: it then does not read the stream of a case it knows; once
// another process has applied a batch, it folds from the streams again.

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

  it('folds the next events of a case it folded itself without reading its stream', async () => {
    const work = new WorkStore(path);
    const planner = new CaseWorkPlanner(store, work);
    const world = opened();
    const first = await record(world);
    await planner.apply(first, first.at(-1)!.position);

    world.run(act('approve', ACTORS.merchant));
    const second = await record(world);
    const read = jest.spyOn(store, 'readStream');
    const changes = await planner.apply(second, second.at(-1)!.position);

    expect(changes?.removed).toEqual([expect.stringMatching(/^deadline-c1-merchantResponse-/)]);
    expect(pendingKeys(work)).toEqual([expect.stringMatching(/^deadline-c1-buyerShipBack-\d+$/)]);
    expect(read).not.toHaveBeenCalled();
    work.close();
  });

  it('folds from the stream, not from what it remembers, once another process applied a batch', async () => {
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
  it('tries a batch again when another process applied one while it read a stream, and then folds from the streams', async () => {
    const [workA, workB] = [new WorkStore(path), new WorkStore(path)];
    const [plannerA, plannerB] = [new CaseWorkPlanner(store, workA), new CaseWorkPlanner(store, workB)];
    const two = opened();
    let appendedTwo = 0;
    const recordTwo = async (): Promise<StoredEvent[]> => {
      const events = two.events('c1').slice(appendedTwo);
      const head = appendedTwo;
      await store.append(caseStream('c2'), events.map((e: RecordedCaseEvent) => ({ id: randomUUID(), type: e.type, data: { ...(e.data as object), caseId: 'c2' }, metadata: { occurredAt: e.metadata?.occurredAt } })), {
        expectedRevision: head === 0 ? 'no_stream' : head - 1,
      });
      appendedTwo += events.length;
      return (await store.readStream(caseStream('c2'))).slice(head);
    };
    // B took in c2's opening; A then folds c1's (and so remembers c1, not c2).
    const openingTwo = await recordTwo();
    await plannerB.apply(openingTwo, openingTwo.at(-1)!.position);
    const one = opened();
    const openingOne = await record(one);
    await plannerA.apply(openingOne, openingOne.at(-1)!.position);

    // Both approved. A must read c2's stream; while it does, B applies the first of c1's approval events.
    one.run(act('approve', ACTORS.merchant));
    const approvedOne = await record(one);
    two.run(act('approve', ACTORS.merchant));
    const approvedTwo = await recordTwo();
    const batch = [...approvedOne, ...approvedTwo];
    const readStream = store.readStream.bind(store);
    const read = jest.spyOn(store, 'readStream').mockImplementation(async (...args) => {
      read.mockRestore();
      await plannerB.apply(approvedOne.slice(0, 1), approvedOne[0].position);
      return readStream(...args);
    });
    await expect(plannerA.apply(batch, batch.at(-1)!.position)).rejects.toThrow('another process applied');

    // Tried again, every case is folded from its stream: the rest of c1's approval and c2's are A's.
    const changes = await plannerA.apply(batch, batch.at(-1)!.position);
    expect(changes?.removed).toEqual([expect.stringMatching(/^deadline-c2-merchantResponse-/)]);
    expect(pendingKeys(workA).sort()).toEqual([expect.stringMatching(/^deadline-c1-buyerShipBack-/), expect.stringMatching(/^deadline-c2-buyerShipBack-/)]);
    workA.close();
    workB.close();
  });
});
