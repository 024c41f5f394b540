import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { Queue, Worker, type BackoffOptions, type Job } from 'bullmq';
import {
  ApplicationModule,
  EVENT_STORE,
  ExecuteCaseCommand,
  ExecuteOrderCommand,
  InfrastructureModule,
  StreamReadsService,
  type CommandOrigin,
} from '@aftersales/application';
import { loadConfig } from '@aftersales/config';
import { caseStream, foldCase, inAgentPool, type AfterSalesCase, type RequestCase, type RecordedCaseEvent } from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { JOB_OPTIONS, LocalRedisServer, REFUND_ATTEMPTS, bullConnection, pendingWork, type JobData, type PendingWork } from '@aftersales/scheduling';
import { InsuranceProcessor } from '../../apps/worker/src/processors/insurance.processor';
import { PickupProcessor } from '../../apps/worker/src/processors/pickup.processor';
import { RefundProcessor } from '../../apps/worker/src/processors/refund.processor';
import { SystemCommands } from '../../apps/worker/src/system-commands';
import { buildOrder, hoursAgo } from '../e2e/support/orders';
import {
  HttpCarrier,
  HttpPaymentCentre,
  HttpShippingInsurer,
  ProviderRejectedError,
  ProviderRetryableError,
  shippingInsurerFor,
  type PickupBooking,
  type RefundSubmission,
} from '@aftersales/integrations';
import { answer, FakeServer, refusedUrl, sleep, verifiedSignature, type Responder } from './outbound-support';

const SECRET = 'whsec-outbound-test';

const refund: RefundSubmission = {
  refundId: 'c-42-r3',
  caseId: 'c-42',
  orderId: 'o-7',
  amount: 12_345,
  currency: 'CNY',
  purpose: 'refund',
  express: true,
};

/** What one attempt ended in: the answer, or the error it threw. */
async function outcome<T>(attempt: Promise<T>): Promise<T | Error> {
  try {
    return await attempt;
  } catch (error) {
    return error as Error;
  }
}

describe('HTTP adapters against a local provider', () => {
  let provider: FakeServer;

  beforeEach(async () => {
    provider = await FakeServer.start();
  });

  afterEach(async () => {
    await provider.close();
  });

  const payments = (options: { timeoutMs?: number; url?: string } = {}) =>
    new HttpPaymentCentre({ url: options.url ?? `${provider.url}/refunds`, secret: SECRET, timeoutMs: options.timeoutMs });
  const carrier = (options: { timeoutMs?: number } = {}) => new HttpCarrier({ url: `${provider.url}/pickups`, secret: SECRET, timeoutMs: options.timeoutMs });

  describe('payment centre', () => {
    it('POSTs the refund as JSON with the refundId as Idempotency-Key, signed over the exact bytes', async () => {
      provider.respondWith((_request, response) => answer(response, 201, { providerRef: 'pay-778812' }));
      const before = Math.floor(Date.now() / 1000);

      expect(await payments().submitRefund(refund)).toEqual({ accepted: true, providerRef: 'pay-778812' });

      const [sent] = provider.received;
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/refunds');
      expect(sent.headers['idempotency-key']).toBe('c-42-r3');
      expect(sent.headers['content-type']).toBe('application/json');
      expect(sent.json).toEqual(refund);
      const t = verifiedSignature(SECRET, sent);
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    });

    it('takes an empty 2xx as acceptance without a reference, and sends the same key on a retry', async () => {
      provider.respondWith((_request, response) => answer(response, 202));
      expect(await payments().submitRefund(refund)).toEqual({ accepted: true });
      expect(await payments().submitRefund(refund)).toEqual({ accepted: true });
      expect(provider.received.map((r) => r.headers['idempotency-key'])).toEqual(['c-42-r3', 'c-42-r3']);
      // Each attempt is signed anew; both verify.
      for (const sent of provider.received) verifiedSignature(SECRET, sent);
    });

    it.each([
      [500, 'internal error'],
      [502, 'bad gateway'],
      [503, 'maintenance'],
      [429, 'slow down'],
      [409, 'a request with this Idempotency-Key is in progress'],
    ])('%i is retryable', async (status, text) => {
      provider.respondWith((_request, response) => answer(response, status, { error: text }));
      const error = await outcome(payments().submitRefund(refund));
      expect(error).toBeInstanceOf(ProviderRetryableError);
      expect(error).toMatchObject({ status, provider: 'payments' });
    });

    it('passes on Retry-After with a retryable answer', async () => {
      provider.respondWith((_request, response) => answer(response, 503, { error: 'busy' }, { 'Retry-After': '7' }));
      expect(await outcome(payments().submitRefund(refund))).toMatchObject({ name: 'ProviderRetryableError', status: 503, retryAfterMs: 7000 });
    });

    it.each([400, 402, 404, 422])('%i is rejected: the same request will never succeed', async (status) => {
      provider.respondWith((_request, response) => answer(response, status, { error: 'account closed' }));
      const error = await outcome(payments().submitRefund(refund));
      expect(error).toBeInstanceOf(ProviderRejectedError);
      expect(error).toMatchObject({ status, detail: '{"error":"account closed"}' });
    });

    it('reads a Retry-After given as an HTTP date', async () => {
      const at = new Date(Date.now() + 30_000);
      provider.respondWith((_request, response) => answer(response, 429, { error: 'slow down' }, { 'Retry-After': at.toUTCString() }));
      const error = await outcome(payments({}).submitRefund(refund));
      expect(error).toMatchObject({ name: 'ProviderRetryableError', status: 429 });
      // The date is whole seconds: up to a second short of 30 s.
      expect((error as ProviderRetryableError).retryAfterMs).toBeGreaterThan(28_000);
      expect((error as ProviderRetryableError).retryAfterMs).toBeLessThanOrEqual(30_000);
    });

    it('a provider that never answers is retryable once the timeout passes', async () => {
      provider.respondWith(() => undefined);
      const started = Date.now();
      const error = await outcome(payments({ timeoutMs: 300 }).submitRefund(refund));
      expect(error).toBeInstanceOf(ProviderRetryableError);
      expect((error as Error).message).toMatch(/no answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('a refused connection is retryable', async () => {
      const error = await outcome(payments({ url: `${await refusedUrl()}/refunds` }).submitRefund(refund));
      expect(error).toBeInstanceOf(ProviderRetryableError);
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
    });

    it('a 2xx that is not the payment centre speaking (HTML, not JSON) is retried, not taken', async () => {
      provider.respondWith((_request, response) => answer(response, 200, '<html>proxy login</html>'));
      expect(await outcome(payments().submitRefund(refund))).toBeInstanceOf(ProviderRetryableError);
    });

    it('an answer larger than any real one is retried, not read whole', async () => {
      provider.respondWith((_request, response) => answer(response, 200, { providerRef: 'x'.repeat(200_000) }));
      expect(await outcome(payments().submitRefund(refund))).toBeInstanceOf(ProviderRetryableError);
    });

    it('does not follow a redirect: the body would be lost on the way', async () => {
      provider.respondWith((_request, response) => answer(response, 302, undefined, { Location: `${provider.url}/elsewhere` }));
      const error = await outcome(payments().submitRefund(refund));
      expect(error).toBeInstanceOf(ProviderRejectedError);
      expect(provider.received).toHaveLength(1);
    });
  });

  describe('carrier', () => {
    const booking: PickupBooking = {
      carrier: 'sf-express',
      trackingNumber: 'SF1234567890',
      windowStart: '2025-03-02T09:00:00.000Z',
      windowEnd: '2025-03-02T18:00:00.000Z',
    };
    const pickup = { caseId: 'c-42', orderId: 'o-7', buyerId: 'u-9' };

    it('POSTs the pickup with the caseId as Idempotency-Key, signed, and returns the booking', async () => {
      provider.respondWith((_request, response) => answer(response, 201, booking));
      expect(await carrier().bookPickup(pickup)).toEqual(booking);
      const [sent] = provider.received;
      expect(sent.path).toBe('/pickups');
      expect(sent.headers['idempotency-key']).toBe('c-42');
      expect(sent.json).toEqual(pickup);
      verifiedSignature(SECRET, sent);
    });

    it('writes the window as UTC instants however the carrier wrote them', async () => {
      provider.respondWith((_request, response) =>
        answer(response, 200, { ...booking, windowStart: '2025-03-02T09:00:00+08:00', windowEnd: '2025-03-02T18:00+08:00' }),
      );
      expect(await carrier().bookPickup(pickup)).toMatchObject({ windowStart: '2025-03-02T01:00:00.000Z', windowEnd: '2025-03-02T10:00:00.000Z' });
    });

    // Decision: a 2xx whose booking cannot be read is retryable. The carrier may have booked the
    // parcel; asking again under the same caseId gets its stored answer, and if it never makes
    // sense the worker's last attempt gives up where a person sees it.
    it.each<[string, unknown]>([
      ['no tracking number', { ...booking, trackingNumber: undefined }],
      ['a tracking number the callbacks could not carry', { ...booking, trackingNumber: 'SF 123/45' }],
      ['no carrier', { ...booking, carrier: '' }],
      ['a window that is not ISO-8601', { ...booking, windowStart: 'tomorrow morning' }],
      ['a date-only window', { ...booking, windowStart: '2025-03-02' }],
      ['a window that ends before it starts', { ...booking, windowStart: booking.windowEnd, windowEnd: booking.windowStart }],
      ['a JSON array', [booking]],
      ['a body that is not JSON', 'booked!'],
      ['an empty body', undefined],
    ])('a 2xx with %s is retryable', async (_what, body) => {
      provider.respondWith((_request, response) => answer(response, 200, body));
      const error = await outcome(carrier().bookPickup(pickup));
      expect(error).toBeInstanceOf(ProviderRetryableError);
      expect(error).toMatchObject({ provider: 'logistics', status: 200 });
    });

    it('500 and a timeout are retryable, 400 is rejected', async () => {
      const responders: Responder[] = [(_q, r) => answer(r, 500), () => undefined, (_q, r) => answer(r, 400, { error: 'address not served' })];
      provider.respondWith((request, response, index) => responders[index](request, response, index));
      expect(await outcome(carrier().bookPickup(pickup))).toBeInstanceOf(ProviderRetryableError);
      expect(await outcome(carrier({ timeoutMs: 200 }).bookPickup(pickup))).toBeInstanceOf(ProviderRetryableError);
      expect(await outcome(carrier().bookPickup(pickup))).toBeInstanceOf(ProviderRejectedError);
    });
  });

  describe('shipping insurer', () => {
    const claim = { claimId: 'c-42-ins', caseId: 'c-42', orderId: 'o-7', amount: 1_000, currency: 'CNY' };

    it('with PAYMENTS=http claims at the payment centre\'s URL + /insurance-claims, keyed by claimId, signed', async () => {
      const config = loadConfig({ PAYMENTS: 'http', PAYMENTS_URL: `${provider.url}/v1/refunds/`, INTEGRATION_WEBHOOK_SECRET: SECRET });
      const insurer = shippingInsurerFor(config.integrations);
      expect(insurer).toBeInstanceOf(HttpShippingInsurer);

      expect(await insurer.claim(claim)).toEqual({ accepted: true });
      const [sent] = provider.received;
      expect(sent.path).toBe('/v1/refunds/insurance-claims');
      expect(sent.headers['idempotency-key']).toBe('c-42-ins');
      expect(sent.json).toEqual(claim);
      verifiedSignature(SECRET, sent);
    });

    it('classifies failures as the other adapters do', async () => {
      const insurer = new HttpShippingInsurer({ url: `${provider.url}/claims`, secret: SECRET });
      provider.respondWith((_request, response) => answer(response, 503));
      expect(await outcome(insurer.claim(claim))).toBeInstanceOf(ProviderRetryableError);
      provider.respondWith((_request, response) => answer(response, 422, { error: 'order not insured' }));
      expect(await outcome(insurer.claim(claim))).toBeInstanceOf(ProviderRejectedError);
    });
  });
});

// The refund worker (RefundProcessor as apps/worker runs it) against a payment
// centre that misbehaves, on a real SQLite store and a redis-server of its
// own: each refund attempt is a BullMQ job tried JOB_OPTIONS.refunds.attempts
// times (the back-off shortened, nothing else), every try under the refund's
// id as Idempotency-Key, and what the case records is what the command path
// decides. The jobs are the ones the reactor would add: pendingWork of the
// case as it stands. The pickup and insurance workers are run the same way
// where a provider asks them to wait (Retry-After).

const ORDER_SYSTEM = { role: 'integration', id: 'order-system' } as const;
const BUYER = { role: 'buyer', id: 'b-outbound' } as const;
/** The shortest wait the adapter allows a provider here: a test of "no answer" should not sleep through 10 s. */
const PROVIDER_TIMEOUT_MS = 300;

describe('the refund worker against a payment centre that misbehaves', () => {
  let dir: string;
  let redis: LocalRedisServer;
  let app: INestApplicationContext;
  let store: EventStore;
  let bus: CommandBus;
  let provider: FakeServer;
  let queue: Queue;
  let worker: Worker;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outbound-worker-'));
    redis = await LocalRedisServer.start({ dir: join(dir, 'redis'), persistent: false });
    const config = loadConfig({ LOG_LEVEL: 'silent', SQLITE_PATH: join(dir, 'aftersales.db'), REDIS_URL: redis.url });
    const moduleRef = await Test.createTestingModule({ imports: [InfrastructureModule.forRoot(config), ApplicationModule] }).compile();
    moduleRef.useLogger(false);
    app = await moduleRef.init();
    store = app.get<EventStore>(EVENT_STORE);
    bus = app.get(CommandBus);
    queue = new Queue('refunds', { connection: bullConnection(redis.url) });
  });

  beforeEach(async () => {
    provider = await FakeServer.start();
    const processor = new RefundProcessor(new HttpPaymentCentre({ url: `${provider.url}/refunds`, secret: SECRET, timeoutMs: PROVIDER_TIMEOUT_MS }), new SystemCommands(bus), app.get(StreamReadsService));
    worker = new Worker('refunds', (job: Job<JobData<Extract<PendingWork, { queue: 'refunds' }>>>) => processor.process(job), {
      connection: bullConnection(redis.url),
      concurrency: 4,
    });
  });

  afterEach(async () => {
    await worker.close();
    await provider.close();
  });

  afterAll(async () => {
    await queue?.close();
    await app?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const origin = (actor: CommandOrigin['actor']): CommandOrigin => ({ actor, channel: 'api', correlationId: randomUUID() });

  /** A refund_only case on an order not shipped yet: approved on request (refund_before_shipment), its refund issued. */
  async function refundingCase(): Promise<string> {
    const orderId = `o-${randomUUID()}`;
    const snapshot = buildOrder({ buyerId: BUYER.id, merchantId: 'm-outbound', businessLine: 'home', lines: [{ unitPrice: 20_000 }] });
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'register', actor: ORDER_SYSTEM, data: { orderId, ...snapshot } }, origin(ORDER_SYSTEM)));
    const caseId = `c-${randomUUID()}`;
    const data: RequestCase['data'] = { caseId, orderId, kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], channel: 'api', pickup: false };
    await bus.execute(new ExecuteCaseCommand(caseId, { type: 'request', actor: BUYER, data }, origin(BUYER)));
    expect((await caseState(caseId)).status).toBe('refunding');
    return caseId;
  }

  async function caseState(caseId: string): Promise<AfterSalesCase> {
    const events = await store.readStream(caseStream(caseId));
    const state = foldCase(events.map((e) => ({ type: e.type, data: e.data, metadata: { occurredAt: e.metadata.occurredAt } }) as RecordedCaseEvent));
    if (state.status === 'none') throw new Error(`no case ${caseId}`);
    return state;
  }

  async function refundEvents(caseId: string): Promise<Array<{ type: string; data: any }>> {
    return (await store.readStream(caseStream(caseId))).filter((e) => e.type.startsWith('Refund')).map((e) => ({ type: e.type, data: e.data }));
  }

  /** The refund job the reactor would add now, run to its end (every try used up, or done); undefined when nothing is owed. Tries 10 ms apart unless told otherwise. */
  async function runOwedRefundJob(caseId: string, backoff: BackoffOptions = { type: 'fixed', delay: 10 }): Promise<Job | undefined> {
    const owed = pendingWork(await caseState(caseId)).filter((w) => w.queue === 'refunds');
    if (owed.length === 0) return undefined;
    expect(owed).toHaveLength(1);
    const [work] = owed;
    const data: JobData = { caseId: work.caseId, dueAt: work.dueAt, work: work.data };
    const job = await queue.add('refunds', data, { ...JOB_OPTIONS.refunds, backoff, jobId: work.key });
    return finished(queue, job.id!);
  }

  async function finished(on: Queue, jobId: string): Promise<Job> {
    for (const until = Date.now() + 20_000; Date.now() < until; await sleep(25)) {
      const now = await on.getJob(jobId);
      if (now?.finishedOn) return now;
    }
    throw new Error(`${jobId} did not finish`);
  }

  /**
   * A return_and_refund case on a delivered order, approved by the merchant: awaiting its return, with a door
   * pickup to book when the buyer asked for one; on an insured order shipped back by the buyer, a claim to file.
   */
  async function returnCase(options: { pickup: boolean; insuredAndShippedBack?: boolean }): Promise<string> {
    const orderId = `o-${randomUUID()}`;
    const snapshot = buildOrder({
      buyerId: BUYER.id,
      merchantId: 'm-outbound',
      businessLine: 'home',
      lines: [{ unitPrice: 20_000 }],
      returnShippingInsured: options.insuredAndShippedBack === true,
    });
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'register', actor: ORDER_SYSTEM, data: { orderId, ...snapshot } }, origin(ORDER_SYSTEM)));
    const shipped = { carrier: 'SF', trackingNumber: `SF${Date.now()}`, shippedAt: hoursAgo(48) };
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'mark-shipped', actor: ORDER_SYSTEM, data: shipped }, origin(ORDER_SYSTEM)));
    await bus.execute(new ExecuteOrderCommand(orderId, { type: 'mark-delivered', actor: ORDER_SYSTEM, data: { deliveredAt: hoursAgo(1) } }, origin(ORDER_SYSTEM)));
    const caseId = `c-${randomUUID()}`;
    const data: RequestCase['data'] = {
      caseId,
      orderId,
      kind: 'return_and_refund',
      reason: 'quality_defect',
      lines: [{ lineId: 'L1', quantity: 1 }],
      evidence: ['https://img.example.com/i.jpg'],
      channel: 'api',
      pickup: options.pickup,
    };
    await bus.execute(new ExecuteCaseCommand(caseId, { type: 'request', actor: BUYER, data }, origin(BUYER)));
    const merchant = { role: 'merchant', id: 'm-outbound-staff', merchantId: 'm-outbound' } as const;
    await bus.execute(new ExecuteCaseCommand(caseId, { type: 'approve', actor: merchant, data: {} }, origin(merchant)));
    expect((await caseState(caseId)).status).toBe('awaiting_return');
    if (options.insuredAndShippedBack) {
      await bus.execute(new ExecuteCaseCommand(caseId, { type: 'ship-return', actor: BUYER, data: { carrier: 'SF', trackingNumber: `RT${Date.now()}` } }, origin(BUYER)));
    }
    return caseId;
  }

  /** The case's owed job of `name`, added with a short exponential back-off (100 ms, 200 ms, ...) and run to its end by `processor`. */
  async function runOwedJob(caseId: string, name: 'pickups' | 'insurance', processor: { process(job: Job): Promise<string> }): Promise<Job> {
    const on = new Queue(name, { connection: bullConnection(redis.url) });
    const runner = new Worker(name, (job: Job) => processor.process(job), { connection: bullConnection(redis.url) });
    try {
      const [work] = pendingWork(await caseState(caseId)).filter((w) => w.queue === name);
      await on.add(name, { caseId, dueAt: work.dueAt, work: work.data } satisfies JobData, { ...JOB_OPTIONS[name], backoff: { type: 'exponential', delay: 100 }, jobId: work.key });
      return await finished(on, work.key);
    } finally {
      await runner.close();
      await on.close();
    }
  }

  it('garbage, 5xx and no answer are retried under the same key, then recorded; after the last attempt the refund waits for a person, and nothing was paid', async () => {
    const caseId = await refundingCase();
    const refundId = (await caseState(caseId)).refunds[0].refundId;
    const misbehaviours: Responder[] = [
      (_q, r) => answer(r, 500, { error: 'internal error' }),
      (_q, r) => answer(r, 200, '<html>proxy login</html>'),
      () => undefined, // holds the request: no answer within the timeout
      (_q, r) => answer(r, 503, { error: 'maintenance' }, { 'Retry-After': '1' }),
      (_q, r) => answer(r, 200, '{"providerRef":'),
    ];
    provider.respondWith((request, response, index) => misbehaviours[index % misbehaviours.length](request, response, index));

    const tries = JOB_OPTIONS.refunds.attempts ?? 1;
    for (let attempt = 1; attempt <= REFUND_ATTEMPTS; attempt += 1) {
      const job = await runOwedRefundJob(caseId);
      // Every try of the job reached the payment centre; the last one's failure was recorded, as this attempt's.
      expect({ attempt, state: await job?.getState(), tried: job?.attemptsMade, result: job?.returnvalue }).toEqual({
        attempt,
        state: 'completed',
        tried: tries,
        result: `failed (attempt ${attempt}${attempt === REFUND_ATTEMPTS ? ', final' : ''})`,
      });
      expect(provider.received).toHaveLength(attempt * tries);
    }

    // Dead-lettered: the refund failed for good, no job is owed any more, and the case is in the agent pool.
    expect(await runOwedRefundJob(caseId)).toBeUndefined();
    const state = await caseState(caseId);
    expect(state.refunds[0]).toMatchObject({ refundId, status: 'failed', attempts: REFUND_ATTEMPTS });
    expect(inAgentPool(state, false)).toBe(true);
    const failures = (await refundEvents(caseId)).filter((e) => e.type === 'RefundFailed');
    expect(failures.map((e) => [e.data.attempt, e.data.final])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, false],
      [5, true],
    ]);
    expect(failures.map((e) => e.data.error)).toEqual(failures.map(() => expect.stringMatching(/^payments /)));
    // Thirty requests, one key, none answered with a payment.
    expect(new Set(provider.received.map((r) => r.headers['idempotency-key']))).toEqual(new Set([refundId]));
    expect((await refundEvents(caseId)).map((e) => e.type)).not.toContain('RefundSettled');
  });

  it('a payment centre that asks to wait (429 or 503 with Retry-After, in seconds or as a date) is asked again no sooner, and never later than the back-off\'s last step', async () => {
    const caseId = await refundingCase();
    const refundId = (await caseState(caseId)).refunds[0].refundId;
    let dateAsked = '';
    const answers: Responder[] = [
      (_q, r) => answer(r, 429, { error: 'slow down' }, { 'Retry-After': '1' }),
      (_q, r) => {
        dateAsked = new Date(Date.now() + 2000).toUTCString();
        answer(r, 503, { error: 'maintenance' }, { 'Retry-After': dateAsked });
      },
      (_q, r) => answer(r, 503, { error: 'maintenance' }, { 'Retry-After': '3600' }),
      (_q, r) => answer(r, 200, { providerRef: 'pay-after-waiting' }),
    ];
    provider.respondWith((request, response, index) => answers[index](request, response, index));

    // The job's own back-off: 200, 400, 800, 1600, 3200 ms between its six tries.
    const job = await runOwedRefundJob(caseId, { type: 'exponential', delay: 200 });
    expect({ state: await job?.getState(), tried: job?.attemptsMade, result: job?.returnvalue }).toEqual({ state: 'completed', tried: 4, result: 'submitted (pay-after-waiting)' });
    const at = provider.received.map((r) => r.receivedAt);
    // Retry-After: 1 rather than the first step's 200 ms.
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(1000);
    // Retry-After as an HTTP date: not before that second (the back-off would have asked 400 ms later).
    expect(at[2]).toBeGreaterThanOrEqual(Date.parse(dateAsked));
    // Retry-After: 3600 is capped by the back-off's last step (3.2 s), not waited out, and not cut to this step's 800 ms.
    expect(at[3] - at[2]).toBeGreaterThanOrEqual(3200);
    expect(at[3] - at[2]).toBeLessThan(8000);
    expect(new Set(provider.received.map((r) => r.headers['idempotency-key']))).toEqual(new Set([refundId]));
    expect((await refundEvents(caseId)).map((e) => e.type)).toEqual(['RefundIssued']);
  }, 30_000);

  it('a Retry-After on the last try of an attempt goes with its RefundFailed: the next attempt waits that long, within the last back-off step', async () => {
    const caseId = await refundingCase();
    const refundId = (await caseState(caseId)).refunds[0].refundId;
    // Busy on every try; on the last try the payment centre asks for 200 s, between the 30 s step and the 240 s last step.
    provider.respondWith((_q, r) => answer(r, 503, { error: 'maintenance' }, { 'Retry-After': '200' }));

    const job = await runOwedRefundJob(caseId);
    expect({ tried: job?.attemptsMade, result: job?.returnvalue }).toEqual({ tried: JOB_OPTIONS.refunds.attempts, result: 'failed (attempt 1)' });
    const failed = (await refundEvents(caseId)).find((e) => e.type === 'RefundFailed');
    expect(failed?.data).toMatchObject({ refundId, attempt: 1, final: false, retryAfterMs: 200_000 });

    const state = await caseState(caseId);
    const [next] = pendingWork(state).filter((w) => w.queue === 'refunds');
    expect(next.dueAt - Date.parse(state.updatedAt)).toBe(200_000);

    // Asked for an hour: capped at the back-off's last step between attempts (4 min), as between tries.
    provider.respondWith((_q, r) => answer(r, 429, { error: 'slow down' }, { 'Retry-After': '3600' }));
    await queue.add('refunds', { caseId, dueAt: Date.now(), work: next.data } satisfies JobData, { ...JOB_OPTIONS.refunds, backoff: { type: 'fixed', delay: 10 }, jobId: next.key });
    await finished(queue, next.key);
    const later = await caseState(caseId);
    const [third] = pendingWork(later).filter((w) => w.queue === 'refunds');
    expect(third.dueAt - Date.parse(later.updatedAt)).toBe(240_000);
  });

  it('the pickup worker waits as the carrier asks too (429 with Retry-After) before booking again under the case id', async () => {
    const caseId = await returnCase({ pickup: true });
    const booking: PickupBooking = { carrier: 'sf-express', trackingNumber: `SF${Date.now()}`, windowStart: hoursAgo(-20), windowEnd: hoursAgo(-26) };
    provider.respondWith((_q, r, index) => (index === 0 ? answer(r, 429, { error: 'slow down' }, { 'Retry-After': '1' }) : answer(r, 201, booking)));
    const processor = new PickupProcessor(new HttpCarrier({ url: `${provider.url}/pickups`, secret: SECRET, timeoutMs: PROVIDER_TIMEOUT_MS }), new SystemCommands(bus), app.get(StreamReadsService));

    const job = await runOwedJob(caseId, 'pickups', processor);
    expect({ tried: job.attemptsMade, result: job.returnvalue }).toEqual({ tried: 2, result: `booked ${booking.trackingNumber}` });
    // Its own back-off would have asked again 100 ms later.
    const [first, second] = provider.received;
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1000);
    expect(provider.received.map((r) => r.headers['idempotency-key'])).toEqual([caseId, caseId]);
  });

  it('the insurance worker waits as the insurer asks (503 with Retry-After) before claiming again under the claim id', async () => {
    const caseId = await returnCase({ pickup: false, insuredAndShippedBack: true });
    provider.respondWith((_q, r, index) => (index === 0 ? answer(r, 503, { error: 'maintenance' }, { 'Retry-After': '1' }) : answer(r, 200, {})));
    const processor = new InsuranceProcessor(new HttpShippingInsurer({ url: `${provider.url}/insurance-claims`, secret: SECRET, timeoutMs: PROVIDER_TIMEOUT_MS }), new SystemCommands(bus), app.get(StreamReadsService));

    const job = await runOwedJob(caseId, 'insurance', processor);
    expect({ tried: job.attemptsMade, result: job.returnvalue }).toEqual({ tried: 2, result: 'paid' });
    const [first, second] = provider.received;
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1000);
    expect(new Set(provider.received.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('a payment centre that pays but answers too late is asked again under the same key, answers a second time with the same payment, and pays once', async () => {
    const caseId = await refundingCase();
    const refundId = (await caseState(caseId)).refunds[0].refundId;
    const paid = new Map<string, string>();
    provider.respondWith((request, response) => {
      const key = String(request.headers['idempotency-key']);
      const known = paid.get(key);
      if (known) return answer(response, 200, { providerRef: known });
      // Pays, then answers after the worker stopped waiting.
      paid.set(key, `pay-${paid.size + 1}`);
      setTimeout(() => answer(response, 201, { providerRef: paid.get(key) }), PROVIDER_TIMEOUT_MS * 3);
    });

    const job = await runOwedRefundJob(caseId);
    expect({ state: await job?.getState(), tried: job?.attemptsMade, result: job?.returnvalue }).toEqual({ state: 'completed', tried: 2, result: 'submitted (pay-1)' });
    expect(provider.received.map((r) => r.headers['idempotency-key'])).toEqual([refundId, refundId]);
    expect([...paid]).toEqual([[refundId, 'pay-1']]);
    // Nothing recorded as failed: the refund waits for the payment centre's callback, still owed (the reconciler's to send again if it never comes).
    expect((await refundEvents(caseId)).map((e) => e.type)).toEqual(['RefundIssued']);
  });
});
