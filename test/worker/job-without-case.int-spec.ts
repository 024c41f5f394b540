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
import { caseStream, type RequestCase } from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { JOB_OPTIONS, LocalRedisServer, WorkStore, bullConnection, type JobData, type PendingWork } from '@aftersales/scheduling';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { buildOrder, hoursAgo } from '../e2e/support/orders';
import { answer, FakeServer, refusedUrl } from '../integrations/outbound-support';
import { CapturedLines } from '../support/captured-lines';
import { eventually } from '../support/eventually';

jest.setTimeout(60_000);

// A job whose case does not exist: one added by hand, or left in a shared
// Redis, for a case id with no stream, or for a case id whose request was
// abandoned (its stream holds only RequestAbandoned). The worker, as
// apps/worker runs it on a real SQLite file and a redis-server of its own,
// drops it: the job completes at its first attempt, the log says why,
// nothing is appended, and the next real deadline still fires. A refund job
// is checked before any money moves: one for no case, or for a refund its
// case never issued (another id, another amount), never reaches the
// payment centre; an insurance claim job alike never reaches the insurer,
// and a pickup job sends no courier.

const SYSTEM = { role: 'integration', id: 'order-system' } as const;

describe('a job for a case that does not exist', () => {
  let dir: string;
  let redis: LocalRedisServer;
  let worker: INestApplicationContext;
  let store: EventStore;
  let deadlines: Queue;
  let refunds: Queue;
  let claims: Queue;
  let pickups: Queue;
  let payments: FakeServer;
  const logs = new CapturedLines();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'job-without-case-'));
    redis = await LocalRedisServer.start({ dir: join(dir, 'redis'), persistent: false });
    payments = await FakeServer.start((_request, response) => answer(response, 201, { providerRef: 'pay-1' }));
    const config = loadConfig({
      SQLITE_PATH: join(dir, 'aftersales.db'),
      REDIS_URL: redis.url,
      POLICY_MERCHANT_RESPONSE: 'PT2S',
      WORKER_RECONCILE_INTERVAL_MS: '500',
      // A payment centre and carrier of the test's own: what reaches it is what the worker sent.
      PAYMENTS: 'http',
      PAYMENTS_URL: `${payments.url}/refunds`,
      LOGISTICS: 'http',
      LOGISTICS_URL: `${payments.url}/pickups`,
      SANDBOX_CALLBACK_URL: await refusedUrl(),
    });
    const moduleRef = await Test.createTestingModule({ imports: [InfrastructureModule.forRoot(config), WorkerModule.register(config)] }).compile();
    moduleRef.useLogger(new JsonLogger(createRootLogger('info', logs)));
    worker = await moduleRef.init();
    store = worker.get<EventStore>(EVENT_STORE);
    deadlines = new Queue('deadlines', { connection: bullConnection(redis.url) });
    refunds = new Queue('refunds', { connection: bullConnection(redis.url) });
    claims = new Queue('insurance', { connection: bullConnection(redis.url) });
    pickups = new Queue('pickups', { connection: bullConnection(redis.url) });
  });

  afterAll(async () => {
    await deadlines?.close();
    await refunds?.close();
    await claims?.close();
    await pickups?.close();
    await worker?.close();
    await payments?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A job as the reactor would make it, for a case id the test chooses, due now; with the queue's own retry options. */
  async function addDeadlineJob(caseId: string): Promise<Job> {
    const due = Date.now();
    const data: JobData = { caseId, dueAt: due, work: { name: 'merchantResponse', dueAt: new Date(due).toISOString() } };
    return deadlines.add('deadlines', data, { ...JOB_OPTIONS.deadlines, jobId: `deadline-${caseId}-merchantResponse-${due}` });
  }

  /** A refund job as the reactor would make it, with the queue's own retry options, for a refund the test makes up. */
  async function addRefundJob(caseId: string, refundId: string, amount: number): Promise<Job> {
    const work = { refundId, orderId: 'o-forged', amount, currency: 'CNY', purpose: 'refund', express: false, attempt: 1 };
    const data: JobData = { caseId, dueAt: Date.now(), work };
    return refunds.add('refunds', data, { ...JOB_OPTIONS.refunds, jobId: `refund-forged-${randomUUID()}` });
  }

  /** An insurance claim job as the reactor would make it, for a claim the test makes up. */
  async function addInsuranceJob(caseId: string, claimId: string): Promise<Job> {
    const data: JobData = { caseId, dueAt: Date.now(), work: { claimId, orderId: 'o-forged', amount: 1_000, currency: 'CNY' } };
    return claims.add('insurance', data, { ...JOB_OPTIONS.insurance, jobId: `insurance-forged-${randomUUID()}` });
  }

  /** A door pickup job as the reactor would make it, for an order and buyer the test chooses. */
  async function addPickupJob(caseId: string, orderId: string, buyerId: string): Promise<Job> {
    const data: JobData = { caseId, dueAt: Date.now(), work: { orderId, buyerId } };
    return pickups.add('pickups', data, { ...JOB_OPTIONS.pickups, jobId: `pickup-forged-${randomUUID()}` });
  }

  async function finished(queue: Queue, job: Job): Promise<Job> {
    return eventually(`${job.id} finished`, async () => {
      const now = await queue.getJob(job.id!);
      return now?.finishedOn ? now : undefined;
    });
  }

  /** Done at its first attempt, without a failure, and said so in the log at warn. */
  async function expectDropped(queue: Queue, job: Job, mentioning: string): Promise<void> {
    const done = await finished(queue, job);
    expect({ id: done.id, failed: done.failedReason, attempts: done.attemptsMade }).toEqual({ id: job.id, failed: undefined, attempts: 1 });
    expect(await done.getState()).toBe('completed');
    expect(logs.lines).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringContaining(mentioning) }));
  }

  const origin = (actor: CommandOrigin['actor']): CommandOrigin => ({ actor, channel: 'api', correlationId: randomUUID() });

  /** A refund_only case opened through the command path: on a shipped order the merchant must answer; on one not shipped, approved at once. */
  async function openCase(shipped: boolean): Promise<string> {
    const bus = worker.get(CommandBus);
    const orderId = `o-${randomUUID()}`;
    const snapshot = buildOrder({ buyerId: 'b-real', merchantId: 'm-real', businessLine: 'home', lines: [{ unitPrice: 20_000 }] });
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'register', actor: SYSTEM, data: { orderId, ...snapshot } }, origin(SYSTEM)));
    if (shipped) {
      const data = { carrier: 'SF', trackingNumber: `SF${Date.now()}`, shippedAt: hoursAgo(48) };
      await bus.execute(new ExecuteOrderCommand(orderId, { type: 'mark-shipped', actor: SYSTEM, data }, origin(SYSTEM)));
    }
    const caseId = `c-real-${randomUUID()}`;
    const buyer = { role: 'buyer', id: 'b-real' } as const;
    const reason = shipped ? 'not_received' : 'changed_mind';
    const data: RequestCase['data'] = { caseId, orderId, kind: 'refund_only', reason, lines: [{ lineId: 'L1', quantity: 1 }], channel: 'api', pickup: false };
    await bus.execute(new ExecuteCaseCommand(caseId, { type: 'request', actor: buyer, data }, origin(buyer)));
    return caseId;
  }

  it('a deadline job is dropped once, appends nothing, is logged, and the worker goes on to the next deadline', async () => {
    // A case id whose request was abandoned: its stream exists and holds no case.
    const abandoned = `c-abandoned-${randomUUID()}`;
    await store.append(caseStream(abandoned), [{ id: randomUUID(), type: 'RequestAbandoned', data: { caseId: abandoned, orderId: 'o-none' }, metadata: {} }], {
      expectedRevision: 'no_stream',
    });
    const head = await store.headPosition();
    const pendingBefore = worker.get(WorkStore).pendingCount();

    const ghosts = await Promise.all([addDeadlineJob(`c-never-${randomUUID()}`), addDeadlineJob(abandoned)]);
    for (const ghost of ghosts) await expectDropped(deadlines, ghost, (ghost.data as JobData).caseId);
    expect(await store.headPosition()).toBe(head);
    expect(worker.get(WorkStore).pendingCount()).toBe(pendingBefore);

    // A real case, opened through the command path: its merchantResponse fires as ever.
    const caseId = await openCase(true);
    const agreed = await eventually('the real case auto-approved', async () => {
      const events = await store.readStream(caseStream(caseId));
      return events.find((e) => e.type === 'MerchantAgreed');
    });
    expect(agreed.data).toMatchObject({ auto: true, trigger: 'merchantResponse' });
  });

  it('a refund job for a case that does not exist, or for a refund its case never issued, never reaches the payment centre', async () => {
    // A real case whose own refund is issued on request (refund_before_shipment) and sent as ever.
    const caseId = await openCase(false);
    const issued = await eventually('the real refund sent', async () => payments.received.find((r) => (r.json as { caseId?: string }).caseId === caseId));
    const head = await store.headPosition();

    const ghost = await addRefundJob(`c-never-${randomUUID()}`, `forged-${randomUUID()}`, 99_999);
    const forged = await addRefundJob(caseId, `forged-${randomUUID()}`, 1);
    const doubled = await addRefundJob(caseId, (issued.json as { refundId: string }).refundId, 99_999);
    for (const job of [ghost, forged, doubled]) await expectDropped(refunds, job, String(job.id));

    const sent = payments.received.map((r) => r.json as { caseId: string; refundId: string; amount: number });
    const forgedIds = [ghost, forged].map((job) => (job.data as JobData<Extract<PendingWork, { queue: 'refunds' }>>).work.refundId);
    expect(sent.filter((r) => forgedIds.includes(r.refundId) || r.amount !== 20_000)).toEqual([]);
    expect(sent.filter((r) => r.caseId === caseId)).toEqual([expect.objectContaining({ amount: 20_000 })]);
    expect(await store.headPosition()).toBe(head);
  });

  /** A return of an order with return-shipping insurance, shipped back by the buyer: its claim is recorded (ShippingInsuranceClaimed). */
  async function insuredReturnShipped(): Promise<string> {
    const bus = worker.get(CommandBus);
    const orderId = `o-${randomUUID()}`;
    const snapshot = buildOrder({ buyerId: 'b-real', merchantId: 'm-real', businessLine: 'home', lines: [{ unitPrice: 20_000 }], returnShippingInsured: true });
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'register', actor: SYSTEM, data: { orderId, ...snapshot } }, origin(SYSTEM)));
    const shipped = { carrier: 'SF', trackingNumber: `SF${Date.now()}`, shippedAt: hoursAgo(48) };
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'mark-shipped', actor: SYSTEM, data: shipped }, origin(SYSTEM)));
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'mark-delivered', actor: SYSTEM, data: { deliveredAt: hoursAgo(1) } }, origin(SYSTEM)));
    const caseId = `c-insured-${randomUUID()}`;
    const buyer = { role: 'buyer', id: 'b-real' } as const;
    const merchant = { role: 'merchant', id: 'm-real-staff', merchantId: 'm-real' } as const;
    const data: RequestCase['data'] = {
      caseId,
      orderId,
      kind: 'return_and_refund',
      reason: 'quality_defect',
      lines: [{ lineId: 'L1', quantity: 1 }],
      evidence: ['https://img.example.com/i.jpg'],
      channel: 'api',
      pickup: false,
    };
    await bus.execute(new ExecuteCaseCommand(caseId, { type: 'request', actor: buyer, data }, origin(buyer)));
    await bus.execute(new ExecuteCaseCommand(caseId, { type: 'approve', actor: merchant, data: {} }, origin(merchant)));
    await bus.execute(new ExecuteCaseCommand(caseId, { type: 'ship-return', actor: buyer, data: { carrier: 'SF', trackingNumber: `RT${Date.now()}` } }, origin(buyer)));
    return caseId;
  }

  it('an insurance claim job for a case that does not exist, or for a claim its case never recorded, never reaches the insurer', async () => {
    // A claim the case did record is filed and its payment recorded, as ever.
    const caseId = await insuredReturnShipped();
    const paid = await eventually('the real claim paid', async () => (await store.readStream(caseStream(caseId))).find((e) => e.type === 'ShippingInsurancePaid'));
    const realClaims = payments.received.filter((r) => r.path.endsWith('/insurance-claims'));
    expect(realClaims.map((r) => r.json)).toEqual([expect.objectContaining({ caseId, claimId: (paid.data as { claimId: string }).claimId })]);
    const head = await store.headPosition();
    const ghost = await addInsuranceJob(`c-never-${randomUUID()}`, `forged-${randomUUID()}`);
    const forged = await addInsuranceJob(caseId, `forged-${randomUUID()}`);
    for (const job of [ghost, forged]) await expectDropped(claims, job, String(job.id));
    // The insurer is the payment centre's /insurance-claims (PAYMENTS=http): nothing more was claimed there.
    expect(payments.received.filter((r) => r.path.endsWith('/insurance-claims'))).toEqual(realClaims);
    expect(await store.headPosition()).toBe(head);
  });

  it('a pickup job for a case that does not exist, or for another buyer than the case\'s, sends no courier', async () => {
    const caseId = await openCase(false);
    const orderId = (await store.readStream(caseStream(caseId), { maxCount: 1 }))[0].data as { orderId: string };
    const head = await store.headPosition();
    const ghost = await addPickupJob(`c-never-${randomUUID()}`, 'o-forged', 'b-forged');
    const forged = await addPickupJob(caseId, orderId.orderId, 'b-forged');
    for (const job of [ghost, forged]) await expectDropped(pickups, job, String(job.id));
    expect(payments.received.filter((r) => r.path.endsWith('/pickups'))).toEqual([]);
    expect(await store.headPosition()).toBe(head);
  });
});
