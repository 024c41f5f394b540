import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { LocalRedisServer, QUEUE_NAMES, WorkQueues, WorkStore, bullConnection, reconcileWork, type PendingWork, type QueueName } from '@aftersales/scheduling';

jest.setTimeout(60_000);

// ARCHITECTURE.md rule 4 against a real Redis: pending work lives in the
// durable table; whatever Redis lost, a pass puts back, once.

describe('reconcileWork', () => {
  let dir: string;
  let redisServer: LocalRedisServer;
  let redis: Redis;
  let work: WorkStore;
  let queues: Map<QueueName, Queue>;
  let workQueues: WorkQueues;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reconcile-'));
    redisServer = await LocalRedisServer.start({ dir: join(dir, 'redis'), persistent: false });
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis.disconnect();
    await redisServer.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await redis.flushall();
    work = new WorkStore(join(dir, `work-${Date.now()}.db`));
    queues = new Map(QUEUE_NAMES.map((name): [QueueName, Queue] => [name, new Queue(name, { connection: bullConnection(redisServer.url) })]));
    workQueues = new WorkQueues(queues, redis);
  });
  afterEach(async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
    work.close();
  });

  const deadline = (n: number, dueAt: number): PendingWork => ({
    key: `deadline-c${n}-merchantResponse-${dueAt}`,
    queue: 'deadlines',
    caseId: `c${n}`,
    dueAt,
    data: { name: 'merchantResponse', dueAt: new Date(dueAt).toISOString() },
  });

  function owe(works: PendingWork[]): void {
    work.apply('case-work', 1, () => ({ cases: new Map(), added: works, removed: [] }));
  }

  it('re-creates every job Redis lost, overdue ones ready at once, and none twice', async () => {
    const now = Date.now();
    const works = [...Array.from({ length: 1500 }, (_, i) => deadline(i, now + 3_600_000)), deadline(9999, now - 1000)];
    owe(works);
    await workQueues.add(works.slice(0, 700));

    const first = await reconcileWork(work, workQueues);
    expect(first).toEqual({ pending: 1501, recreated: 801, resubmitted: 0 });
    const counts = await queues.get('deadlines')!.getJobCounts('delayed', 'waiting');
    expect(counts).toEqual({ delayed: 1500, waiting: 1 });

    await redis.flushall();
    expect((await reconcileWork(work, workQueues)).recreated).toBe(1501);
    expect((await reconcileWork(work, workQueues)).recreated).toBe(0);
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
    const worker = new Worker('refunds', async (job) => { submitted.push(job.data.work.refundId as string); return 'submitted'; }, { connection: bullConnection(redisServer.url) });
    try {
      await workQueues.add([refund]);
      while (submitted.length < 1) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      // Not yet overdue for an outcome: nothing is sent again.
      expect(await reconcileWork(work, workQueues, { resubmitUnsettledAfterMs: 60_000 })).toMatchObject({ recreated: 0, resubmitted: 0 });
      expect(await reconcileWork(work, workQueues, { resubmitUnsettledAfterMs: 50 })).toMatchObject({ recreated: 0, resubmitted: 1 });
      while (submitted.length < 2) await new Promise((r) => setTimeout(r, 20));
      expect(submitted).toEqual(['c1-r2', 'c1-r2']);
    } finally {
      await worker.close();
    }
  });
});
