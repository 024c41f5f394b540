import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { signatureHeader } from '@aftersales/integrations';
import { LocalRedisServer, bullConnection } from '@aftersales/scheduling';
import { Platform } from '../e2e/support/platform';
import { uniqueId } from '../e2e/support/orders';
import { eventually } from '../support/eventually';
import { startService, stopService, type StartedService } from '../e2e/support/service';
import { answer, FakeServer } from '../integrations/outbound-support';

jest.setTimeout(90_000);

// At-least-once delivery survives the worker dying inside a job. The
// service sends a refund to a payment centre (PAYMENTS=http) that holds the
// first request open; the process is killed -9 while the refund job is
// active, and started again on the same data and Redis. The job, still
// active in Redis under a lock nobody renews, is taken up again, sent with
// the same Idempotency-Key, and the buyer is paid exactly once.

const WEBHOOK_SECRET = 'aftersales-development-webhook-secret-do-not-use-in-production';

/** A payment centre that pays once per Idempotency-Key, and holds the first request it gets open without an answer. */
class PaymentCentre {
  readonly paid = new Map<string, string>();
  callbackBase = '';
  fake!: FakeServer;

  async start(): Promise<this> {
    this.fake = await FakeServer.start((request, response, index) => {
      if (index === 0) return; // Caught mid-request: the worker dies waiting for this answer.
      const key = String(request.headers['idempotency-key']);
      const refundId = (request.json as { refundId: string }).refundId;
      const known = this.paid.get(key);
      const providerRef = known ?? `pay-${this.paid.size + 1}`;
      this.paid.set(key, providerRef);
      answer(response, 201, { providerRef });
      // A real payment centre reports the outcome through the signed callback, once per payment.
      if (!known) void this.report(refundId, providerRef);
    });
    return this;
  }

  private async report(refundId: string, providerRef: string): Promise<void> {
    const body = JSON.stringify({ refundId, status: 'succeeded', providerRef, at: new Date().toISOString() });
    await fetch(`${this.callbackBase}/v1/integrations/payments/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(WEBHOOK_SECRET, body, new Date()) },
      body,
    });
  }
}

describe('a worker killed -9 in the middle of a refund job', () => {
  let dataDir: string;
  let redisDir: string;
  let redis: LocalRedisServer;
  let payments: PaymentCentre;
  let refunds: Queue;
  let restarted: StartedService | undefined;

  beforeAll(async () => {
    redisDir = mkdtempSync(join(tmpdir(), 'aftersales-killed-redis-'));
    dataDir = mkdtempSync(join(tmpdir(), 'aftersales-killed-'));
    redis = await LocalRedisServer.start({ dir: redisDir, persistent: false });
    payments = await new PaymentCentre().start();
    refunds = new Queue('refunds', { connection: bullConnection(redis.url) });
  });

  afterAll(async () => {
    await refunds?.close();
    await stopService(restarted);
    await payments?.fake.close();
    await redis?.stop();
    rmSync(redisDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (): Promise<StartedService> => {
    const started = await startService(
      { REDIS_URL: redis.url, PAYMENTS: 'http', PAYMENTS_URL: `${payments.fake.url}/refunds`, WORKER_RECONCILE_INTERVAL_MS: '1000' },
      dataDir,
    );
    payments.callbackBase = started.service.baseUrl;
    return started;
  };

  it('takes the job up again after a restart: sent again under the same key, paid and settled once', async () => {
    const first = await start();
    let p = new Platform(first.api);
    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    // Not shipped yet: refund_before_shipment approves at once, and the refund job starts.
    const { orderId } = await p.order({ buyerId, merchantId: 'm-killed', businessLine: 'home', lines: [{ unitPrice: 20_000 }] }, 'placed');
    const kase = await p.mustOpenCase(buyer, { orderId, kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] });
    expect(kase.status).toBe('refunding');
    const issued = (await p.events(kase.caseId)).find((e) => e.type === 'RefundIssued');
    const refundId: string = issued.data.refundId;

    // The request is in flight and unanswered: the job is active in Redis. Killed -9 now.
    await payments.fake.waitFor(1, 20_000);
    const [job] = await refunds.getActive();
    expect(job?.data.work.refundId).toBe(refundId);
    const killed = await first.service.stop('SIGKILL');
    expect(killed.code).toBeNull();
    expect(await refunds.getJobState(job.id!)).toBe('active');
    expect(payments.paid.size).toBe(0);

    restarted = await start();
    p = new Platform(restarted.api);
    const settled = await eventually(
      'RefundSettled after the restart',
      async () => {
        const events = await p.events(kase.caseId);
        return events.some((e) => e.type === 'RefundSettled') ? events : undefined;
      },
      50_000,
      250,
    );

    // A moment more, for a second submission or settlement to show if there were one.
    await new Promise((wake) => setTimeout(wake, 1500));
    const events = await p.events(kase.caseId);
    expect(events.filter((e) => e.type === 'RefundIssued')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'RefundSettled')).toHaveLength(1);
    expect(settled.map((e) => e.type)).toContain('CaseCompleted');
    // Every request carried the refund's id as its key; the payment centre paid it once.
    const keys = payments.fake.received.map((r) => r.headers['idempotency-key']);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keys)).toEqual(new Set([refundId]));
    expect([...payments.paid.keys()]).toEqual([refundId]);
    // Taken up by BullMQ's stalled-job check (the reconciler leaves a job that exists alone), and done.
    const done = await refunds.getJob(job.id!);
    expect({ state: await done?.getState(), stalled: done?.stalledCounter }).toEqual({ state: 'completed', stalled: 1 });
    // The order settles its reservation in the append after the case's: it may land a moment later.
    await eventually(`order ${orderId} settled`, async () => {
      const { refundLedger } = await p.readOrder(orderId);
      return refundLedger.reserved === 0 && refundLedger.refunded === issued.data.amount ? true : undefined;
    });
  });
});
