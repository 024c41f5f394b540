import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Queue, Worker } from 'bullmq';
import { DEADLINE_NAMES, caseStream, type DeadlineName, type RecordedCaseEvent } from '@aftersales/domain';
import { World, request } from '@aftersales/domain/testing';
import { SqliteEventStore } from '@aftersales/event-store';
import {
  QUEUE_NAMES,
  SETTLE_MS,
  WorkQueues,
  WorkStore,
  bullConnection,
  reconcileWork,
  type PendingWork,
  type QueueName,
} from '@aftersales/scheduling';
import type { AppConfig } from '@aftersales/config';
import { CaseWorkReactor } from '../../apps/worker/src/case-work.reactor';
import { WorkReconciler } from '../../apps/worker/src/work-reconciler';
import { Redis } from 'ioredis';
import { suiteRedis } from '../support/suite-redis';

jest.setTimeout(60_000);

// ARCHITECTURE.md rule 4 against a real Redis: pending work lives in the
// durable table; whatever Redis lost, a pass puts back, once.

describe('reconcileWork', () => {
  let work: WorkStore;
  let queues: Map<QueueName, Queue>;
  let workQueues: WorkQueues;

  const suite = suiteRedis('reconcile');
  beforeEach(async () => {
    await suite.client.flushall();
    work = new WorkStore(join(suite.dir, `work-${Date.now()}.db`));
    queues = new Map(QUEUE_NAMES.map((name): [QueueName, Queue] => [name, new Queue(name, { connection: bullConnection(suite.url) })]));
    workQueues = new WorkQueues(queues, suite.client);
  });
  afterEach(async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
    work.close();
  });

  const deadline = (n: number | string, dueAt: number, name: DeadlineName = 'merchantResponse'): PendingWork => ({
    key: `deadline-${typeof n === 'number' ? `c${n}` : n}-${name}-${dueAt}`,
    queue: 'deadlines',
    caseId: typeof n === 'number' ? `c${n}` : n,
    dueAt,
    data: { name, dueAt: new Date(dueAt).toISOString() },
  });

  function owe(works: PendingWork[]): void {
    work.apply('case-work', 1, () => ({ cases: new Map(), added: works, removed: [] }));
  }

  it('re-creates every job Redis lost, overdue ones ready at once, and none twice', async () => {
    const now = Date.now();
    const works = [...Array.from({ length: 1500 }, (_, i) => deadline(i, now + 3_600_000)), deadline(9999, now - 1000)];
    owe(works);
    await workQueues.add(works.slice(0, 700));

    // settleMs 0: these rows were written a moment ago, by no reactor.
    const first = await reconcileWork(work, workQueues, { settleMs: 0 });
    expect(first).toEqual({ pending: 1501, recreated: 801, scheduled: 0, later: 0, resubmitted: 0, settling: 0, allLost: false });
    const counts = await queues.get('deadlines')!.getJobCounts('delayed', 'waiting');
    expect(counts).toEqual({ delayed: 1500, waiting: 1 });

    await suite.client.flushall();
    expect(await reconcileWork(work, workQueues, { settleMs: 0 })).toMatchObject({ recreated: 1501, allLost: true });
    expect(await reconcileWork(work, workQueues, { settleMs: 0 })).toMatchObject({ recreated: 0, allLost: false });
  });

  /** Counts the EXISTS the client sends while `run` runs (BullMQ's scripts call EXISTS too: those are left out). */
  async function existsAsked(run: () => Promise<unknown>): Promise<number> {
    const monitor = await suite.client.monitor();
    let asked = 0;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0]?.toLowerCase() === 'exists' && source !== 'lua') asked += 1;
    });
    try {
      await run();
      // MONITOR lines trail the replies a little: a PING through the monitored server flushes them.
      await suite.client.ping();
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      monitor.disconnect();
    }
    return asked;
  }

  it('after Redis lost everything, adds every row without asking which exist; the next pass asks again', async () => {
    const now = Date.now();
    const works = Array.from({ length: 6000 }, (_, i) => deadline(i, now + 3_600_000 + i));
    owe(works);
    expect(await reconcileWork(work, workQueues, { settleMs: 0 })).toMatchObject({ recreated: 6000 });

    await suite.client.flushall();
    // The marker, and a sample of the earliest rows to tell a lost Redis from one that never had the marker.
    const blind = await existsAsked(async () => {
      expect(await reconcileWork(work, workQueues, { settleMs: 0 })).toEqual({ pending: 6000, recreated: 6000, scheduled: 0, later: 0, resubmitted: 0, settling: 0, allLost: true });
    });
    expect(blind).toBeLessThan(50);
    expect(await queues.get('deadlines')!.getJobCounts('delayed')).toEqual({ delayed: 6000 });

    const asked = await existsAsked(async () => {
      expect(await reconcileWork(work, workQueues, { settleMs: 0 })).toMatchObject({ recreated: 0, allLost: false });
    });
    expect(asked).toBeGreaterThanOrEqual(6000);
  });

  it('a Redis that never saw the marker but has the jobs is asked row by row, and nothing counts as lost', async () => {
    const now = Date.now();
    const works = Array.from({ length: 100 }, (_, i) => deadline(i, now + 3_600_000 + i));
    owe(works);
    await workQueues.add(works);
    expect(await reconcileWork(work, workQueues, { settleMs: 0 })).toMatchObject({ pending: 100, recreated: 0, allLost: false });
  });

  it('puts the jobs back within seconds of Redis losing everything, not a period later', async () => {
    const now = Date.now();
    owe(Array.from({ length: 300 }, (_, i) => deadline(i, now + 3_600_000 + i)));
    // A period far longer than the test: only the look at the marker between passes can bring the jobs back in time.
    const reconciler = new WorkReconciler(work, workQueues, { worker: { reconcileIntervalMs: 60_000 } } as AppConfig);
    reconciler.onApplicationBootstrap();
    try {
      await reconciler.runOnce();
      expect(await queues.get('deadlines')!.getDelayedCount()).toBe(300);
      const before = reconciler.totals.recreated;
      await suite.client.flushall();
      const flushed = Date.now();
      while ((await queues.get('deadlines')!.getDelayedCount()) < 300 && Date.now() - flushed < 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(await queues.get('deadlines')!.getDelayedCount()).toBe(300);
      expect(reconciler.totals.recreated - before).toBe(300);
    } finally {
      await reconciler.onModuleDestroy();
    }
  });

  it('leaves rows written moments ago to their reactor, and re-creates them a pass later when that reactor never added them', async () => {
    // Another process's reactor committed this row and died (or is still adding): Redis has the marker but not the job.
    await workQueues.setMarker();
    const lateWork = deadline(1, Date.now() + 60_000);
    owe([lateWork]);
    expect(await reconcileWork(work, workQueues)).toMatchObject({ pending: 1, recreated: 0, settling: 1 });
    expect(await suite.client.exists(queues.get('deadlines')!.toKey(lateWork.key))).toBe(0);

    const later = () => Date.now() + SETTLE_MS;
    expect(await reconcileWork(work, workQueues, { now: later })).toMatchObject({ pending: 1, recreated: 1, settling: 0 });
    expect(await suite.client.exists(queues.get('deadlines')!.toKey(lateWork.key))).toBe(1);
  });

  it('reads the pending rows of a file written before rows had a creation time as old: checked, and re-created, at once', async () => {
    const path = join(suite.dir, `old-${Date.now()}.db`);
    const old = new Database(path);
    old.exec('CREATE TABLE wk_pending (key TEXT PRIMARY KEY, queue TEXT NOT NULL, case_id TEXT NOT NULL, due_at INTEGER NOT NULL, data TEXT NOT NULL)');
    const owed = deadline(7, Date.now() + 60_000);
    old.prepare('INSERT INTO wk_pending VALUES (?, ?, ?, ?, ?)').run(owed.key, owed.queue, owed.caseId, owed.dueAt, JSON.stringify(owed.data));
    old.close();
    const upgraded = new WorkStore(path);
    try {
      await workQueues.setMarker();
      expect(upgraded.pending(undefined, 10)).toEqual([expect.objectContaining({ key: owed.key, createdAt: 0 })]);
      expect(await reconcileWork(upgraded, workQueues)).toMatchObject({ pending: 1, recreated: 1, settling: 0 });
    } finally {
      upgraded.close();
    }
  });

  it('does not count work its reactor committed and is still adding as lost', async () => {
    const store = new SqliteEventStore({ path: join(suite.dir, `events-${Date.now()}.db`) });
    const reactor = new CaseWorkReactor(store, work, workQueues);
    const pauser = new Redis(suite.url);
    try {
      await workQueues.setMarker();
      await queues.get('deadlines')!.waitUntilReady();
      // Writes (and scripts: BullMQ's add) wait while reads go on: the reactor commits its row, then hangs in its add.
      await pauser.call('CLIENT', 'PAUSE', '4000', 'WRITE');
      reactor.onApplicationBootstrap();
      const world = new World().delivered().run(request({ kind: 'return_and_refund', reason: 'quality_defect', pickup: false, evidence: ['https://e/x.jpg'], lines: [{ lineId: 'L1', quantity: 2 }], requestedAmount: 20_000 }));
      await store.append(
        caseStream('c1'),
        world.events('c1').map((e: RecordedCaseEvent) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: { occurredAt: e.metadata?.occurredAt } })),
        { expectedRevision: 'no_stream' },
      );
      while (work.pendingCount() === 0) await new Promise((r) => setTimeout(r, 10));
      const [key] = work.pending(undefined, 1).map((w) => w.key);

      // settleMs 0: only the hold keeps the pass off it.
      expect(await reconcileWork(work, workQueues, { settleMs: 0 })).toMatchObject({ pending: 1, recreated: 0, settling: 1 });
      expect(await suite.client.exists(queues.get('deadlines')!.toKey(key))).toBe(0);

      await pauser.call('CLIENT', 'UNPAUSE');
      while (workQueues.isHeld(key)) await new Promise((r) => setTimeout(r, 10));
      expect(await suite.client.exists(queues.get('deadlines')!.toKey(key))).toBe(1);
      expect(await reconcileWork(work, workQueues, { settleMs: 0 })).toMatchObject({ pending: 1, recreated: 0, settling: 0 });
    } finally {
      await pauser.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      pauser.disconnect();
      await reactor.onModuleDestroy();
      await store.close();
    }
  });

  it('keeps a pending deadline within 1 KB of Redis: its job hash and its entry in the delayed set', async () => {
    // Case ids as the service makes them (UUIDs), every deadline name, due in two days.
    const due = Date.now() + 2 * 86_400_000;
    const works = Array.from({ length: 180 }, (_, i) => deadline(randomUUID(), due + i, DEADLINE_NAMES[i % DEADLINE_NAMES.length]));
    await workQueues.add(works);
    const deadlines = queues.get('deadlines')!;
    const sizes = await Promise.all(works.map(async (w) => Number(await suite.client.call('MEMORY', 'USAGE', deadlines.toKey(w.key), 'SAMPLES', '0'))));
    const delayedSet = Number(await suite.client.call('MEMORY', 'USAGE', deadlines.toKey('delayed'), 'SAMPLES', '0'));
    const perEntry = delayedSet / works.length;
    expect(Math.max(...sizes) + perEntry).toBeLessThanOrEqual(1024);
  });

  it('sends a refund again, same key, when it was submitted and no outcome came back in time', async () => {
    const refund: PendingWork = {
      key: 'refund-c1-r2-a0',
      queue: 'refunds',
      caseId: 'c1',
      dueAt: Date.now(),
      data: { refundId: 'c1-r2', orderId: 'o1', amount: 500, currency: 'CNY', purpose: 'refund', express: false, attempt: 1 },
    };
    owe([refund]);
    const submitted: string[] = [];
    const worker = new Worker('refunds', async (job) => { submitted.push(job.data.work.refundId as string); return 'submitted'; }, { connection: bullConnection(suite.url) });
    try {
      await workQueues.add([refund]);
      while (submitted.length < 1) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      // Not yet overdue for an outcome: nothing is sent again.
      expect(await reconcileWork(work, workQueues, { resubmitUnsettledAfterMs: 60_000, settleMs: 0 })).toMatchObject({ recreated: 0, resubmitted: 0 });
      expect(await reconcileWork(work, workQueues, { resubmitUnsettledAfterMs: 50, settleMs: 0 })).toMatchObject({ recreated: 0, resubmitted: 1 });
      while (submitted.length < 2) await new Promise((r) => setTimeout(r, 20));
      expect(submitted).toEqual(['c1-r2', 'c1-r2']);
    } finally {
      await worker.close();
    }
  });
});
