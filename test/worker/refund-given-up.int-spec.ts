import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CommandBus } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Job } from 'bullmq';
import request from 'supertest';
import { Clock, EVENT_STORE, ExecuteCaseCommand, JsonLogger, StreamReadsService, timeOrderedUuid } from '@aftersales/application';
import { loadConfig } from '@aftersales/config';
import { caseStream, foldCase, type AfterSalesCase, type RecordedCaseEvent } from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { ProviderRejectedError, SandboxPaymentCentre, type PaymentCentre, type RefundAccepted, type RefundSubmission } from '@aftersales/integrations';
import { LocalRedisServer, REFUND_ATTEMPTS, pendingWork, type JobData, type PendingWork } from '@aftersales/scheduling';
import { ApiModule } from '../../apps/api/src/api.module';
import { createFastifyAdapter } from '../../apps/api/src/http/http-edge';
import { ProjectorModule } from '../../apps/projector/src/projector.module';
import { RefundProcessor } from '../../apps/worker/src/processors/refund.processor';
import { SystemCommands } from '../../apps/worker/src/system-commands';
import { MovableClock, PROBLEM, daysAgo, orderBody, token } from '../commands/support/app';
import { eventually } from '../support/eventually';

jest.setTimeout(60_000);

type RefundWork = Extract<PendingWork, { queue: 'refunds' }>;

/**
 * The payment centre as the worker sees it: it refuses every refund for good
 * (a closed account) until the buyer's bank is fixed, and from then on is the
 * sandbox payment centre, which settles through the signed payments callback
 * to the API. Every submission is kept, to see which id each one carried.
 */
class FixablePaymentCentre implements PaymentCentre {
  fixed = false;
  readonly submitted: string[] = [];

  constructor(readonly sandbox: SandboxPaymentCentre) {}

  async submitRefund(refund: RefundSubmission): Promise<RefundAccepted> {
    this.submitted.push(refund.refundId);
    if (!this.fixed) throw new ProviderRejectedError('payments', 'payments answered 422', 422, '{"error":"account closed"}');
    return this.sandbox.submitRefund(refund);
  }
}

// A payout on a case that then closed, given up by the refund worker after
// its last attempt: the API (with the projector, over HTTP), the refund
// processor the worker runs, and the sandbox payment centre calling back.
// The case is in the agent pool although closed; an agent's retry-refund has
// the worker send it again under the same refundId, it settles once, and the
// case leaves the pool.
describe('a refund given up on a closed case reaches a person, who sends it again', () => {
  let dataDir: string;
  let redis: LocalRedisServer;
  let app: NestFastifyApplication;
  let store: EventStore;
  let clock: MovableClock;
  let payments: FixablePaymentCentre;
  let processor: RefundProcessor;
  const t: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'aftersales-refund-given-up-'));
    redis = await LocalRedisServer.start({ dir: join(dataDir, 'redis'), persistent: false });
    const config = loadConfig({ LOG_LEVEL: 'silent', SQLITE_PATH: join(dataDir, 'aftersales.db'), REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '1000000' });
    clock = new MovableClock();
    const moduleRef = await Test.createTestingModule({
      imports: [ApiModule.register(config, [ProjectorModule.register(config, { lockTiming: { retryMs: 50 }, retryDelayMs: 100 })])],
    })
      .overrideProvider(Clock)
      .useValue(clock)
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { bodyParser: false, bufferLogs: true });
    app.useLogger(app.get(JsonLogger));
    await app.listen(0, '127.0.0.1');
    store = app.get<EventStore>(EVENT_STORE);

    const { port } = app.getHttpServer().address() as AddressInfo;
    // Signed on the service's clock, which this test moves past the offer's deadline.
    const sandbox = new SandboxPaymentCentre({ baseUrl: `http://127.0.0.1:${port}`, secret: config.integrations.webhookSecret, settleMs: 20, retryDelayMs: 50, now: () => clock.now() });
    payments = new FixablePaymentCentre(sandbox);
    processor = new RefundProcessor(payments, new SystemCommands(app.get(CommandBus)), app.get(StreamReadsService));

    t.integration = await token({ sub: 'order-system', role: 'integration' });
    t.buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
    t.agent2 = await token({ sub: 'agent-2', role: 'agent', businessLine: 'apparel' });
    t.foreignAgent = await token({ sub: 'agent-x', role: 'agent', businessLine: 'groceries' });
  });

  afterAll(async () => {
    await payments?.sandbox.close();
    await app?.close();
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let last = 0;
  const call = async (method: 'get' | 'post' | 'put', path: string, bearer: string, body?: unknown, status = 200) => {
    let pending = request(app.getHttpServer())[method](path).set('Authorization', `Bearer ${bearer}`);
    if (body !== undefined) pending = pending.send(body as object);
    const response = await pending;
    expect({ path, status: response.status, body: response.status === status ? undefined : response.body }).toEqual({ path, status, body: undefined });
    if (typeof response.body?.position === 'number') last = Math.max(last, response.body.position);
    return response;
  };

  async function caseState(caseId: string): Promise<AfterSalesCase> {
    const events = await store.readStream(caseStream(caseId));
    const state = foldCase(events.map((e) => ({ type: e.type, data: e.data, metadata: { occurredAt: e.metadata.occurredAt } }) as RecordedCaseEvent));
    if (state.status === 'none') throw new Error(`no case ${caseId}`);
    return state;
  }

  const eventTypes = async (caseId: string) => (await store.readStream(caseStream(caseId))).map((e) => e.type);

  /** The refund job the reactor would add for the case now, run once by the worker's refund processor; undefined when none is owed. */
  async function runOwedRefundJob(caseId: string): Promise<{ work: RefundWork; result: string } | undefined> {
    const owed = pendingWork(await caseState(caseId)).filter((w): w is RefundWork => w.queue === 'refunds');
    if (owed.length === 0) return undefined;
    expect(owed).toHaveLength(1);
    const [work] = owed;
    const job = { id: work.key, data: { caseId, dueAt: work.dueAt, work: work.data }, opts: { attempts: 1 }, attemptsMade: 0 } as unknown as Job<JobData<RefundWork>>;
    return { work, result: await processor.process(job) };
  }

  const pool = async (bearer: string) => (await call('get', `/v1/queues/pool?minPosition=${last}`, bearer)).body.items as Array<{ caseId: string; status: string }>;

  it('is in the pool while closed, and once retried is paid exactly once and leaves it', async () => {
    // A return the merchant answered with an offer; an agent paid goodwill meanwhile and let the case go.
    await call('put', '/v1/orders/o-given-up', t.integration, orderBody(), 201);
    await call('post', '/v1/orders/o-given-up/shipped', t.integration, { carrier: 'sf', trackingNumber: 'SF-given-up', shippedAt: daysAgo(3) });
    await call('post', '/v1/orders/o-given-up/delivered', t.integration, { deliveredAt: daysAgo(1) });
    const opened = await call('post', '/v1/cases', t.buyer, { orderId: 'o-given-up', kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }, 201);
    const caseId: string = opened.body.caseId;
    await call('post', `/v1/cases/${caseId}/counter-offer`, t.merchant, { amount: 5_000 });
    await call('post', `/v1/cases/${caseId}/claim`, t.agent, {});
    await call('post', `/v1/cases/${caseId}/compensate`, t.agent, { amount: 300, form: 'cash', note: 'sorry for the wait' });
    await call('post', `/v1/cases/${caseId}/release`, t.agent, {});
    const payout = (await caseState(caseId)).refunds[0];
    expect(payout).toMatchObject({ purpose: 'compensation', amount: 300, status: 'pending' });

    // The buyer never answers the offer: it lapses and the case closes (the deadline job, as the worker sends it).
    const { buyerOfferResponse: dueAt } = (await caseState(caseId)).deadlines;
    clock.advance(Date.parse(dueAt!) - Date.now() + 1_000);
    const lapse = { type: 'deadline-passed', actor: { role: 'system', id: 'worker' }, data: { name: 'buyerOfferResponse', dueAt: dueAt! } } as const;
    await app.get(CommandBus).execute(new ExecuteCaseCommand(caseId, lapse, { actor: lapse.actor, channel: 'api', correlationId: timeOrderedUuid() }));
    expect((await caseState(caseId)).status).toBe('closed');

    // Every attempt refused for good: after the last one the payout is given up, and no job is owed.
    for (let attempt = 1; attempt <= REFUND_ATTEMPTS; attempt += 1) {
      expect((await runOwedRefundJob(caseId))?.result).toBe(`failed (attempt ${attempt}${attempt === REFUND_ATTEMPTS ? ', final' : ''})`);
    }
    expect(await runOwedRefundJob(caseId)).toBeUndefined();
    last = Math.max(last, await store.headPosition());

    // Closed, yet in the line's pool: agents of the line see it and may only retry the refund; other lines do not see it.
    expect(await pool(t.agent2)).toEqual([expect.objectContaining({ caseId, status: 'closed' })]);
    expect(await pool(t.foreignAgent)).toEqual([]);
    const seen = await call('get', `/v1/cases/${caseId}`, t.agent2);
    expect(seen.body.allowedActions).toEqual(['retry-refund']);

    // Refusals append nothing and are problem+json.
    const head = await store.headPosition();
    const unknown = await call('post', `/v1/cases/${caseId}/retry-refund`, t.agent2, { refundId: `${caseId}-r99` }, 422);
    expect(unknown.headers['content-type']).toMatch(PROBLEM);
    expect(unknown.body).toMatchObject({ rule: 'unknown_refund' });
    await call('post', `/v1/cases/${caseId}/retry-refund`, t.buyer, { refundId: payout.refundId }, 403);
    await call('post', `/v1/cases/${caseId}/retry-refund`, t.foreignAgent, { refundId: payout.refundId }, 404);
    await call('post', `/v1/cases/${caseId}/retry-refund`, t.agent2, {}, 400);
    expect(await store.headPosition()).toBe(head);

    // A person retries it: out of the pool, owed again at once under the same id, with a fresh series of attempts.
    const retried = await call('post', `/v1/cases/${caseId}/retry-refund`, t.agent2, { refundId: payout.refundId, note: 'the buyer gave a new account' });
    expect(retried.body).toMatchObject({ status: 'closed', allowedActions: [] });
    expect((await store.readStream(caseStream(caseId))).at(-1)).toMatchObject({ type: 'RefundRetried', data: { refundId: payout.refundId, by: 'agent-2', note: 'the buyer gave a new account' } });
    expect(await pool(t.agent2)).toEqual([]);

    payments.fixed = true;
    const sent = await runOwedRefundJob(caseId);
    expect(sent?.work.data).toMatchObject({ refundId: payout.refundId, attempt: REFUND_ATTEMPTS + 1, lastAttempt: 2 * REFUND_ATTEMPTS });
    expect(sent?.result).toMatch(/^submitted/);
    await eventually('the payout settled', async () => ((await eventTypes(caseId)).includes('RefundSettled') ? true : undefined));

    // The payment centre reports it again (a resubmission after a lost callback): acknowledged, recorded once.
    await payments.sandbox.submitRefund({ refundId: payout.refundId, caseId, orderId: 'o-given-up', amount: 300, currency: 'CNY', purpose: 'compensation', express: false });
    await eventually('the repeated report answered', async () => (payments.sandbox.pending === 0 ? true : undefined));
    expect((await eventTypes(caseId)).filter((type) => type === 'RefundSettled')).toHaveLength(1);
    expect(await caseState(caseId)).toMatchObject({ status: 'closed', refunded: 300, compensated: 300, refunds: [{ refundId: payout.refundId, status: 'settled' }] });
    expect(await runOwedRefundJob(caseId)).toBeUndefined();
    // Every send, before and after the retry, carried the one refund id the payment centre pays at most once.
    expect(new Set(payments.submitted)).toEqual(new Set([payout.refundId]));
    expect(payments.submitted).toHaveLength(REFUND_ATTEMPTS + 1);

    last = Math.max(last, await store.headPosition());
    expect(await pool(t.agent2)).toEqual([]);
    // Nothing given up any more: retrying is not an action now.
    await call('post', `/v1/cases/${caseId}/retry-refund`, t.agent2, { refundId: payout.refundId }, 409);
  });
});
