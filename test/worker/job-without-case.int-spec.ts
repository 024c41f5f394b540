import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { Queue, type Job } from 'bullmq';
import {
  EVENT_STORE,
  ExecuteCaseCommand,
  ExecuteOrderCommand,
  InfrastructureModule,
  JsonLogger,
  createRootLogger,
  type CommandOrigin,
} from '@aftersales/application';
import { loadConfig } from '@aftersales/config';
import { caseStream } from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { JOB_OPTIONS, LocalRedisServer, WorkStore, bullConnection, type JobData } from '@aftersales/scheduling';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { buildOrder, hoursAgo } from '../e2e/support/orders';
import { refusedUrl } from '../integrations/outbound-support';
import { CapturedLines } from '../support/captured-lines';
import { eventually } from '../support/eventually';

jest.setTimeout(60_000);

// A deadline job whose case does not exist: one added by hand, or left in a
// shared Redis, for a case id with no stream, or for a case id whose request
// was abandoned (its stream holds only RequestAbandoned). The worker, as
// apps/worker runs it on a real SQLite file and a redis-server of its own,
// drops it: the job completes at its first attempt, the log says why,
// nothing is appended, and the next real deadline still fires.

const SYSTEM = { role: 'integration', id: 'order-system' } as const;

describe('a deadline job for a case that does not exist', () => {
  let dir: string;
  let redis: LocalRedisServer;
  let worker: INestApplicationContext;
  let store: EventStore;
  let deadlines: Queue;
  const logs = new CapturedLines();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'job-without-case-'));
    redis = await LocalRedisServer.start({ dir: join(dir, 'redis'), persistent: false });
    const config = loadConfig({
      SQLITE_PATH: join(dir, 'aftersales.db'),
      REDIS_URL: redis.url,
      POLICY_MERCHANT_RESPONSE: 'PT2S',
      WORKER_RECONCILE_INTERVAL_MS: '500',
      // The refund the real deadline starts is never settled here, and no callback leaves this test.
      SANDBOX_PAYMENT_SETTLE_MS: '86400000',
      SANDBOX_CALLBACK_URL: await refusedUrl(),
    });
    const moduleRef = await Test.createTestingModule({ imports: [InfrastructureModule.forRoot(config), WorkerModule.register(config)] }).compile();
    moduleRef.useLogger(new JsonLogger(createRootLogger('info', logs)));
    worker = await moduleRef.init();
    store = worker.get<EventStore>(EVENT_STORE);
    deadlines = new Queue('deadlines', { connection: bullConnection(redis.url) });
  });

  afterAll(async () => {
    await deadlines?.close();
    await worker?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A job as the reactor would make it, for a case id the test chooses, due now; with the queue's own retry options. */
  async function addDeadlineJob(caseId: string): Promise<Job> {
    const due = Date.now();
    const data: JobData = { caseId, dueAt: due, work: { name: 'merchantResponse', dueAt: new Date(due).toISOString() } };
    return deadlines.add('deadlines', data, { ...JOB_OPTIONS.deadlines, jobId: `deadline-${caseId}-merchantResponse-${due}` });
  }

  async function finished(job: Job): Promise<Job> {
    return eventually(`${job.id} finished`, async () => {
      const now = await deadlines.getJob(job.id!);
      return now?.finishedOn ? now : undefined;
    });
  }

  const origin = (actor: CommandOrigin['actor']): CommandOrigin => ({ actor, channel: 'api', correlationId: randomUUID() });

  it('is dropped once, appends nothing, is logged, and the worker goes on to the next deadline', async () => {
    // A case id whose request was abandoned: its stream exists and holds no case.
    const abandoned = `c-abandoned-${randomUUID()}`;
    await store.append(caseStream(abandoned), [{ id: randomUUID(), type: 'RequestAbandoned', data: { caseId: abandoned, orderId: 'o-none' }, metadata: {} }], {
      expectedRevision: 'no_stream',
    });
    const head = await store.headPosition();
    const pendingBefore = worker.get(WorkStore).pendingCount();

    const ghosts = await Promise.all([addDeadlineJob(`c-never-${randomUUID()}`), addDeadlineJob(abandoned)]);
    for (const ghost of ghosts) {
      const done = await finished(ghost);
      expect({ id: done.id, failed: done.failedReason, attempts: done.attemptsMade }).toEqual({ id: ghost.id, failed: undefined, attempts: 1 });
      expect(await done.getState()).toBe('completed');
      const caseId = (ghost.data as JobData).caseId;
      expect(logs.lines).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining(caseId) }));
    }
    expect(await store.headPosition()).toBe(head);
    expect(worker.get(WorkStore).pendingCount()).toBe(pendingBefore);

    // A real case, opened through the command path: its merchantResponse fires as ever.
    const bus = worker.get(CommandBus);
    const orderId = `o-${randomUUID()}`;
    const snapshot = buildOrder({ buyerId: 'b-real', merchantId: 'm-real', businessLine: 'home', lines: [{ unitPrice: 20_000 }] });
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'register', actor: SYSTEM, data: { orderId, ...snapshot } }, origin(SYSTEM)));
    await bus.execute(
      new ExecuteOrderCommand(orderId, { type: 'mark-shipped', actor: SYSTEM, data: { carrier: 'SF', trackingNumber: 'SF000000000001', shippedAt: hoursAgo(48) } }, origin(SYSTEM)),
    );
    const caseId = `c-real-${randomUUID()}`;
    const buyer = { role: 'buyer', id: 'b-real' } as const;
    await bus.execute(
      new ExecuteCaseCommand(
        caseId,
        { type: 'request', actor: buyer, data: { caseId, orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }], channel: 'api', pickup: false } },
        origin(buyer),
      ),
    );
    const agreed = await eventually('the real case auto-approved', async () => {
      const events = await store.readStream(caseStream(caseId));
      return events.find((e) => e.type === 'MerchantAgreed');
    });
    expect(agreed.data).toMatchObject({ auto: true, trigger: 'merchantResponse' });
  });
});
