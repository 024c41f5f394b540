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

jest.setTimeout(90_000);

// DOMAIN.md: "if the party acted first, the timer does nothing". A party who
// answers before a deadline ends it: its delayed job leaves BullMQ, and once
// the due time has long passed nothing has happened on the party's behalf.

const MERCHANT = 'm-in-time';
/** How long past the due time a deadline that wrongly fired would have shown: reconciler pass, job pick-up, a loaded machine. */
const MARGIN_MS = 4000;
const WEBHOOK_SECRET = 'aftersales-development-webhook-secret-do-not-use-in-production';

describe('deadlines answered in time do not fire (the worker in npm start)', () => {
  let dataDir: string;
  let redis: LocalRedisServer;
  let started: StartedService;
  let p: Platform;
  let deadlines: Queue;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'aftersales-in-time-redis-'));
    redis = await LocalRedisServer.start({ dir: dataDir, persistent: false });
    started = await startService(
      {
        REDIS_URL: redis.url,
        POLICY_MERCHANT_RESPONSE: 'PT4S',
        POLICY_BUYER_SHIP_BACK: 'PT4S',
        POLICY_MERCHANT_RECEIPT: 'PT4S',
        // Long: only the deadline under test may fall due in each journey.
        POLICY_RETURN_TRANSIT: 'PT1H',
        SANDBOX_PAYMENT_SETTLE_MS: '100',
        WORKER_RECONCILE_INTERVAL_MS: '1000',
      },
    );
    p = new Platform(started.api);
    deadlines = new Queue('deadlines', { connection: bullConnection(redis.url) });
  }, 90_000);

  afterAll(async () => {
    await deadlines?.close();
    await stopService(started);
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function openCase(kind: string, reason: string, progress: 'shipped' | 'delivered') {
    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    const merchant = await p.merchant(MERCHANT);
    const { orderId } = await p.order({ buyerId, merchantId: MERCHANT, businessLine: 'home', lines: [{ unitPrice: 20_000 }] }, progress);
    const extra = kind === 'return_and_refund' ? { evidence: ['https://img.example.com/t.jpg'], pickup: false } : {};
    const kase = await p.mustOpenCase(buyer, { orderId, kind, reason, lines: [{ lineId: 'L1', quantity: 1 }], ...extra });
    return { caseId: kase.caseId as string, buyer, merchant, orderId };
  }

  /** The deadline as the case set it, once its delayed job is in BullMQ (so that ending it has a job to take out). */
  async function delayedDeadline(caseId: string, name: string): Promise<{ key: string; dueAt: number }> {
    const set = await eventually(`${name} set on ${caseId}`, async () => (await p.events(caseId)).find((e) => e.type === 'DeadlineSet' && e.data.name === name));
    const dueAt = Date.parse(set.data.dueAt);
    const key = `deadline-${caseId}-${name}-${dueAt}`;
    await eventually(`${key} delayed in BullMQ`, async () => ((await deadlines.getJobState(key)) === 'delayed' ? true : undefined), 10_000, 50);
    if (Date.now() > dueAt - 1000) throw new Error(`${name} of ${caseId} is due too soon to answer before it; raise its policy`);
    return { key, dueAt };
  }

  /** Once the party has answered: the job is gone from Redis, and past due time and margin the case shows nothing the system did. */
  async function expectNothingFired(caseId: string, deadline: { key: string; dueAt: number }): Promise<any[]> {
    await eventually(`${deadline.key} taken out of BullMQ`, async () => ((await deadlines.getJob(deadline.key)) === undefined ? true : undefined), 10_000);
    expect(await deadlines.getDelayed()).not.toContainEqual(expect.objectContaining({ id: deadline.key }));
    const wait = deadline.dueAt + MARGIN_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // Not even run as a no-op: a job that ran would stay among the completed ones.
    expect(await deadlines.getJob(deadline.key)).toBeUndefined();
    return p.events(caseId);
  }

  it('merchantResponse: a merchant who answers first is not auto-approved on top', async () => {
    const { caseId, merchant, orderId } = await openCase('refund_only', 'not_received', 'shipped');
    const deadline = await delayedDeadline(caseId, 'merchantResponse');
    await p.mustAct(caseId, 'approve', merchant);

    const events = await expectNothingFired(caseId, deadline);
    const agreed = events.filter((e) => e.type === 'MerchantAgreed');
    expect(agreed).toHaveLength(1);
    expect(agreed[0].data.auto).not.toBe(true);
    expect(agreed[0].metadata.actor).toMatchObject({ role: 'merchant' });
    expect(events.filter((e) => e.type === 'RefundIssued')).toHaveLength(1);
    // Paid once, for the merchant's approval only.
    await eventually('refund settled', async () => ((await p.eventTypes(caseId)).includes('RefundSettled') ? true : undefined));
    const after = await p.events(caseId);
    expect(after.filter((e) => e.type === 'RefundSettled')).toHaveLength(1);
    // The order settles its reservation in the append after the case's: it may land a moment later.
    const issued = after.find((e) => e.type === 'RefundIssued').data.amount;
    await eventually(`order ${orderId} refunded ${issued}`, async () => ((await p.readOrder(orderId)).refundLedger.refunded === issued ? true : undefined));
  });

  it('buyerShipBack: a buyer who ships the return first keeps the case open', async () => {
    const { caseId, buyer, merchant, orderId } = await openCase('return_and_refund', 'quality_defect', 'delivered');
    await p.mustAct(caseId, 'approve', merchant);
    const deadline = await delayedDeadline(caseId, 'buyerShipBack');
    await p.mustAct(caseId, 'ship-return', buyer, { carrier: 'SF', trackingNumber: `RB${orderId.slice(-12)}` });

    const events = await expectNothingFired(caseId, deadline);
    expect(events.map((e) => e.type)).not.toContain('CaseClosed');
    expect((await p.getCase(caseId, buyer)).body.status).toBe('return_in_transit');
  });

  it('merchantReceipt: a merchant who confirms receipt first is not confirmed for by the clock', async () => {
    const { caseId, buyer, merchant, orderId } = await openCase('return_and_refund', 'quality_defect', 'delivered');
    await p.mustAct(caseId, 'approve', merchant);
    const trackingNumber = `RR${orderId.slice(-12)}`;
    await p.mustAct(caseId, 'ship-return', buyer, { carrier: 'SF', trackingNumber });
    // The carrier reports the return delivered to the merchant: merchantReceipt starts.
    const body = JSON.stringify({ trackingNumber, event: 'delivered', at: new Date().toISOString() });
    const delivered = await fetch(`${started.service.baseUrl}/v1/integrations/logistics/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(WEBHOOK_SECRET, body, new Date()) },
      body,
    });
    expect(delivered.status).toBe(200);
    const deadline = await delayedDeadline(caseId, 'merchantReceipt');
    await p.mustAct(caseId, 'confirm-receipt', merchant, { inspection: 'passed', disposition: 'restock' });

    const events = await expectNothingFired(caseId, deadline);
    const received = events.filter((e) => e.type === 'ReturnReceived');
    expect(received).toHaveLength(1);
    expect(received[0].data.auto).not.toBe(true);
    expect(received[0].metadata.actor).toMatchObject({ role: 'merchant' });
    expect(events.filter((e) => e.type === 'RefundIssued')).toHaveLength(1);
  });
});
