import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { caseStream, type RecordedCaseEvent } from '@aftersales/domain';
import { ACTORS, World, act, request } from '@aftersales/domain/testing';
import { SqliteEventStore } from '@aftersales/event-store';
import { QUEUE_NAMES, WorkQueues, WorkStore, bullConnection, type PendingWork, type QueueName } from '@aftersales/scheduling';
import type { AppConfig } from '@aftersales/config';
import { CaseWorkReactor } from '../../apps/worker/src/case-work.reactor';
import { WorkReconciler } from '../../apps/worker/src/work-reconciler';
import { suiteRedis } from '../support/suite-redis';

jest.setTimeout(60_000);

// Only work due within the horizon has a BullMQ job; the rest waits in the
// durable table until a reconciliation pass finds it inside the horizon.
// One clock, moved by the test, for the table, the queues and the passes.

const HORIZON_MS = 60_000;

describe('the schedule horizon', () => {
  let store: SqliteEventStore;
  let work: WorkStore;
  let queues: Map<QueueName, Queue>;
  let workQueues: WorkQueues;
  let reactor: CaseWorkReactor;
  let reconciler: WorkReconciler;
  let now: number;
  let appended: number;

  const suite = suiteRedis('horizon');
  beforeEach(async () => {
    await suite.client.flushall();
    const path = join(suite.dir, `aftersales-${randomUUID()}.db`);
    now = Date.parse('2025-03-01T08:00:00.000Z');
    appended = 0;
    store = new SqliteEventStore({ path });
    work = new WorkStore(path, () => now);
    queues = new Map(QUEUE_NAMES.map((name): [QueueName, Queue] => [name, new Queue(name, { connection: bullConnection(suite.url) })]));
    workQueues = new WorkQueues(queues, suite.client, () => now, HORIZON_MS);
    reactor = new CaseWorkReactor(store, work, workQueues);
    reconciler = new WorkReconciler(work, workQueues, { worker: { reconcileIntervalMs: 20_000, scheduleHorizonMs: HORIZON_MS } } as AppConfig);
  });
  afterEach(async () => {
    await reactor.onModuleDestroy();
    await Promise.all([...queues.values()].map((q) => q.close()));
    work.close();
    await store.close();
  });

  const deadlines = () => queues.get('deadlines')!;
  const hasJob = async (key: string) => (await suite.client.exists(deadlines().toKey(key))) === 1;

  /** Appends the world's case events not appended yet, as the command path would, and waits until the reactor has applied them. */
  async function record(world: World, caseId = 'c1'): Promise<void> {
    const events = world.events(caseId).slice(appended);
    await store.append(
      caseStream(caseId),
      events.map((e: RecordedCaseEvent) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: { occurredAt: e.metadata?.occurredAt } })),
      { expectedRevision: appended === 0 ? 'no_stream' : appended - 1 },
    );
    appended += events.length;
    const head = await store.headPosition();
    while (work.checkpoint('case-work') < head) await new Promise((r) => setTimeout(r, 10));
  }

  function pendingDeadline(name: string): { key: string; dueAt: number } {
    const row = work.pending(undefined, 100).find((w) => w.key.includes(`-${name}-`));
    if (!row) throw new Error(`no pending ${name}`);
    return row;
  }

  const returnCase = () =>
    new World().delivered().run(request({ kind: 'return_and_refund', reason: 'quality_defect', pickup: false, evidence: ['https://e/x.jpg'], lines: [{ lineId: 'L1', quantity: 2 }], requestedAmount: 20_000 }));

  it('gives a far deadline no job until a pass finds it inside the horizon, then one that runs when it is due', async () => {
    reactor.onApplicationBootstrap();
    await record(returnCase());
    const deadline = pendingDeadline('merchantResponse');
    expect(deadline.dueAt - now).toBeGreaterThan(HORIZON_MS);
    expect(await hasJob(deadline.key)).toBe(false);

    expect(await reconciler.runOnce()).toMatchObject({ pending: 0, later: 1, scheduled: 0, recreated: 0 });
    now = deadline.dueAt - HORIZON_MS - 1;
    expect(await reconciler.runOnce()).toMatchObject({ pending: 0, later: 1, scheduled: 0, recreated: 0 });
    expect(await hasJob(deadline.key)).toBe(false);

    // Inside the horizon: its first job, delayed until its due time (not a loss Redis had).
    now = deadline.dueAt - 400;
    expect(await reconciler.runOnce()).toMatchObject({ pending: 1, later: 0, scheduled: 1, recreated: 0 });
    const job = await deadlines().getJob(deadline.key);
    expect(job?.data).toMatchObject({ caseId: 'c1', dueAt: deadline.dueAt });
    expect(job?.opts.delay).toBe(400);
    expect(await reconciler.runOnce()).toMatchObject({ pending: 1, scheduled: 0, recreated: 0 });

    // It runs once its delay has passed on Redis's own clock, not before.
    const events = new QueueEvents('deadlines', { connection: bullConnection(suite.url) });
    const worker = new Worker('deadlines', async () => 'ran', { connection: bullConnection(suite.url) });
    try {
      const finished = await deadlines().getJob(deadline.key);
      await finished!.waitUntilFinished(events, 10_000);
      const done = await deadlines().getJob(deadline.key);
      expect(done?.returnvalue).toBe('ran');
      expect(done!.processedOn! - done!.timestamp).toBeGreaterThanOrEqual(400);
    } finally {
      await worker.close();
      await events.close();
    }
  });

  it('a far deadline ended by a later event never gets a job; the one that follows waits for the horizon too', async () => {
    reactor.onApplicationBootstrap();
    const world = returnCase();
    await record(world);
    const answered = pendingDeadline('merchantResponse');
    world.run(act('approve', ACTORS.merchant));
    await record(world);
    expect(work.pending(undefined, 100).map((w) => w.key)).toEqual([expect.stringMatching(/^deadline-c1-buyerShipBack-/)]);
    const next = pendingDeadline('buyerShipBack');

    now = answered.dueAt;
    expect(await reconciler.runOnce()).toMatchObject({ pending: 0, later: 1, scheduled: 0 });
    expect(await hasJob(answered.key)).toBe(false);
    expect(await hasJob(next.key)).toBe(false);
    expect(await deadlines().getJobCounts('delayed', 'waiting')).toEqual({ delayed: 0, waiting: 0 });
  });

  const farDeadline = (dueAt: number): PendingWork => ({
    key: `deadline-c9-merchantResponse-${dueAt}`,
    queue: 'deadlines',
    caseId: 'c9',
    dueAt,
    data: { name: 'merchantResponse', dueAt: new Date(dueAt).toISOString() },
  });

  it('runs at once a deadline no pass found inside the horizon before it fell due (every worker was down)', async () => {
    const owed = farDeadline(now + 10 * HORIZON_MS);
    work.apply('case-work', 1, () => ({ added: [owed], removed: [] }));
    now = owed.dueAt + 5_000;
    expect(await reconciler.runOnce()).toMatchObject({ pending: 1, scheduled: 1, recreated: 0 });
    expect(await deadlines().getJobState(owed.key)).toBe('waiting');
  });

  it('adds a row just written beyond its reactor\'s horizon at once: no reactor is adding it', async () => {
    await workQueues.setMarker();
    const owed = farDeadline(now + HORIZON_MS + 10);
    work.apply('case-work', 1, () => ({ added: [owed], removed: [] }));
    now += 20;
    expect(await reconciler.runOnce()).toMatchObject({ pending: 1, scheduled: 1, settling: 0 });
    expect(await hasJob(owed.key)).toBe(true);
  });

  it('counts a job lost after its first pass as re-created, and puts it back', async () => {
    const owed = farDeadline(now + 2 * HORIZON_MS);
    work.apply('case-work', 1, () => ({ added: [owed], removed: [] }));
    now += HORIZON_MS + 1000;
    expect(await reconciler.runOnce()).toMatchObject({ scheduled: 1, recreated: 0 });
    await suite.client.flushall();
    now += 1000;
    expect(await reconciler.runOnce()).toMatchObject({ pending: 1, scheduled: 0, recreated: 1, allLost: true });
    expect(await hasJob(owed.key)).toBe(true);
  });
});
