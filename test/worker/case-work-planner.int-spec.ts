import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseStream, type RecordedCaseEvent } from '@aftersales/domain';
import { ACTORS, World, act, request } from '@aftersales/domain/testing';
import { SqliteEventStore, type StoredEvent } from '@aftersales/event-store';
import { CaseWorkPlanner, WorkStore } from '@aftersales/scheduling';

// The reactor's planning step on a real SQLite file: what a batch of the log
// adds to and removes from the durable pending work, once, whichever of
// several processes applies it.

describe('CaseWorkPlanner', () => {
  let dir: string;
  let store: SqliteEventStore;
  let appended = 0;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'planner-'));
    store = new SqliteEventStore({ path: join(dir, 'aftersales.db') });
    appended = 0;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Appends the world's case events not appended yet, as the command path would. */
  async function record(world: World, caseId = 'c1'): Promise<void> {
    const events = world.events(caseId).slice(appended);
    if (events.length === 0) return;
    await store.append(
      caseStream(caseId),
      events.map((e: RecordedCaseEvent) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: { occurredAt: e.metadata?.occurredAt } })),
      { expectedRevision: appended === 0 ? 'no_stream' : appended - 1 },
    );
    appended += events.length;
  }

  const everything = async (after = 0): Promise<StoredEvent[]> => store.readAll({ after });
  const pendingKeys = (work: WorkStore) => work.pending(undefined, 100).map((w) => w.key);

  it('adds the work a batch starts and removes the work a later batch ends', async () => {
    const work = new WorkStore(join(dir, 'aftersales.db'));
    const planner = new CaseWorkPlanner(store, work);
    const world = new World().delivered().run(request({ kind: 'return_and_refund', reason: 'quality_defect', pickup: false, evidence: ['https://e/x.jpg'], lines: [{ lineId: 'L1', quantity: 2 }], requestedAmount: 20_000 }));
    expect(world.state().status).toBe('pending_merchant');
    await record(world);
    const first = await everything();
    const changes = await planner.apply(first, first.at(-1)!.position);
    expect(changes?.added.map((w) => w.queue)).toEqual(['deadlines']);
    expect(pendingKeys(work)).toEqual([expect.stringMatching(/^deadline-c1-merchantResponse-\d+$/)]);

    world.run(act('approve', ACTORS.merchant));
    await record(world);
    const second = await everything(first.at(-1)!.position);
    const next = await planner.apply(second, second.at(-1)!.position);
    // merchantResponse ended with its status; buyerShipBack began.
    expect(next?.removed).toEqual([expect.stringMatching(/^deadline-c1-merchantResponse-/)]);
    expect(pendingKeys(work)).toEqual([expect.stringMatching(/^deadline-c1-buyerShipBack-\d+$/)]);
    expect(work.checkpoint('case-work')).toBe(second.at(-1)!.position);
    work.close();
  });

  it('applies a batch once when two processes both take it', async () => {
    const path = join(dir, 'aftersales.db');
    const [workA, workB] = [new WorkStore(path), new WorkStore(path)];
    const world = new World().delivered().run(request({ kind: 'return_and_refund', reason: 'quality_defect', pickup: false, evidence: ['https://e/x.jpg'], lines: [{ lineId: 'L1', quantity: 2 }], requestedAmount: 20_000 }));
    await record(world);
    const batch = await everything();
    const position = batch.at(-1)!.position;
    expect(await new CaseWorkPlanner(store, workA).apply(batch, position)).toBeDefined();
    expect(await new CaseWorkPlanner(store, workB).apply(batch, position)).toBeUndefined();
    expect(workB.pendingCount()).toBe(1);
    workA.close();
    workB.close();
  });

  it('folds a case whose state it dropped from the case stream when the case moves again', async () => {
    const work = new WorkStore(join(dir, 'aftersales.db'));
    const planner = new CaseWorkPlanner(store, work);
    // Express checkout of the case: requested, then the stored state forgotten (as when nothing was owed), then approved.
    const world = new World().delivered().run(request({ kind: 'return_and_refund', reason: 'quality_defect', pickup: false, evidence: ['https://e/x.jpg'], lines: [{ lineId: 'L1', quantity: 2 }], requestedAmount: 20_000 }));
    await record(world);
    const first = await everything();
    // Start after the request: the planner never saw it and has no state for the case.
    world.run(act('approve', ACTORS.merchant));
    await record(world);
    const second = await everything(first.at(-1)!.position);
    const changes = await planner.apply(second, second.at(-1)!.position);
    expect(changes?.added.map((w) => w.key)).toEqual([expect.stringMatching(/^deadline-c1-buyerShipBack-\d+$/)]);
    work.close();
  });
});
