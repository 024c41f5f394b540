import { signatureHeader } from '@aftersales/integrations';
import { Platform } from '../e2e/support/platform';
import { eventually } from '../support/eventually';
import { uniqueId } from '../e2e/support/orders';
import { startService, stopService, type StartedService } from '../e2e/support/service';

jest.setTimeout(90_000);

// DOMAIN.md: nothing waits for a person forever. With short policies, the
// service started as `npm start` starts it moves cases by the clock alone:
// the worker fires deadlines, books pickups and sends refunds to the sandbox
// payment centre, whose signed callback settles them.

const MERCHANT = 'm-clock';

describe('time decides (the worker in npm start)', () => {
  let started: StartedService;
  let p: Platform;

  beforeAll(async () => {
    started = await startService({
      POLICY_MERCHANT_RESPONSE: 'PT2S',
      POLICY_BUYER_SHIP_BACK: 'PT3S',
      SANDBOX_PAYMENT_SETTLE_MS: '100',
      WORKER_RECONCILE_INTERVAL_MS: '1000',
    });
    p = new Platform(started.api);
  }, 90_000);

  afterAll(() => stopService(started));

  const party = async () => {
    const buyerId = uniqueId('b');
    return { buyerId, buyer: await p.buyer(buyerId), spec: { buyerId, merchantId: MERCHANT, businessLine: 'home' } };
  };

  const typesOnceThere = (caseId: string, type: string) =>
    eventually(`${type} on ${caseId}`, async () => {
      const types = await p.eventTypes(caseId);
      return types.includes(type) ? types : undefined;
    });

  it('a merchant who never answers: auto-approved at merchantResponse, refunded through the payment centre, completed', async () => {
    const { buyer, spec } = await party();
    // Shipped, never arrived, and above the small-amount rule: no auto-review, the merchant must answer.
    const { orderId } = await p.order({ ...spec, lines: [{ unitPrice: 20_000 }] }, 'shipped');
    const kase = await p.mustOpenCase(buyer, { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }] });
    expect(kase.status).toBe('pending_merchant');
    // The projector runs in npm start too: the buyer's list shows the case once it has reached the request's position.
    const listed = await p.api.get(`/v1/cases?minPosition=${kase.position}`, { token: buyer });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((c: { caseId: string }) => c.caseId)).toContain(kase.caseId);

    const types = await typesOnceThere(kase.caseId, 'CaseCompleted');
    expect(types).toEqual(expect.arrayContaining(['MerchantAgreed', 'RefundIssued', 'RefundSettled', 'CaseCompleted']));
    const events = await p.events(kase.caseId);
    const agreed = events.find((e) => e.type === 'MerchantAgreed');
    expect(agreed.data).toMatchObject({ auto: true, trigger: 'merchantResponse' });
    expect(agreed.metadata.actor).toMatchObject({ role: 'system' });
    // Paid exactly once.
    expect(events.filter((e) => e.type === 'RefundSettled')).toHaveLength(1);
    // The order settles its reservation in the append after the case's (the callback's follow-up): it may land a moment later.
    const issued = events.find((e) => e.type === 'RefundIssued').data.amount;
    const refunded = await eventually(`order ${orderId} refunded ${issued}`, async () => {
      const { refundLedger } = await p.readOrder(orderId);
      return refundLedger.refunded === issued ? refundLedger.refunded : undefined;
    });
    expect(refunded).toBe(issued);
  });

  it('a door pickup is booked after approval, and a return never shipped closes the case as expired', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await p.order(spec);
    const kase = await p.mustOpenCase(buyer, { orderId, kind: 'return_and_refund', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }], evidence: ['https://img.example.com/y.jpg'], pickup: true });

    await typesOnceThere(kase.caseId, 'PickupScheduled');
    const pickup = (await p.events(kase.caseId)).find((e) => e.type === 'PickupScheduled');
    expect(pickup.data).toMatchObject({ trackingNumber: expect.stringMatching(/^SBX\d{12}$/) });

    await typesOnceThere(kase.caseId, 'CaseClosed');
    const closed = (await p.events(kase.caseId)).find((e) => e.type === 'CaseClosed');
    expect(closed.data).toEqual({ reason: 'expired' });
    // The lines come back to the order once the case is closed.
    await eventually('lines released', async () => ((await p.readOrder(orderId)).lines.every((l: { heldBy?: string }) => !l.heldBy) ? true : undefined));
  });

  it('express refund: a trusted buyer is paid once the courier collects, and receipt later pays nothing twice', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await p.order({ ...spec, buyerTrustScore: 800, lines: [{ unitPrice: 20_000 }] });
    const kase = await p.mustOpenCase(buyer, { orderId, kind: 'return_and_refund', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }], evidence: ['https://img.example.com/z.jpg'], pickup: true });
    // The clock approves; the worker books the pickup with the sandbox carrier.
    await typesOnceThere(kase.caseId, 'PickupScheduled');
    const pickup = (await p.events(kase.caseId)).find((e) => e.type === 'PickupScheduled');

    // The carrier reports the collection through the signed logistics callback.
    const body = JSON.stringify({ trackingNumber: pickup.data.trackingNumber, event: 'collected', at: new Date().toISOString() });
    const secret = 'aftersales-development-webhook-secret-do-not-use-in-production';
    const collected = await fetch(`${started.service.baseUrl}/v1/integrations/logistics/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signatureHeader(secret, body, new Date()) },
      body,
    });
    expect(collected.status).toBe(200);

    // Paid before the merchant has the goods: granted, sent by the worker, settled by the sandbox payment centre.
    await typesOnceThere(kase.caseId, 'RefundSettled');
    const merchant = await p.merchant(MERCHANT);
    const after = await p.mustAct(kase.caseId, 'confirm-receipt', merchant, { inspection: 'passed', disposition: 'restock' });
    expect(after.status).toBe('completed');
    const events = await p.events(kase.caseId);
    const issued = events.filter((e) => e.type === 'RefundIssued');
    expect(events.map((e) => e.type)).toContain('ExpressRefundGranted');
    expect(issued).toHaveLength(1);
    expect(issued[0].data).toMatchObject({ express: true });
    expect((await p.readOrder(orderId)).refundLedger.refunded).toBe(issued[0].data.amount);
  });

  it('shows the worker in /metrics: queues, lateness, reactor lag, reconciler and repair pass', async () => {
    const text = await eventually('worker metrics', async () => {
      const response = await fetch(`${started.service.baseUrl}/metrics`);
      const body = await response.text();
      return /worker_job_lateness_seconds_count\{queue="deadlines"\} [1-9]/.test(body) ? body : undefined;
    });
    expect(text).toMatch(/worker_queue_jobs\{queue="deadlines",state="delayed"\} \d+/);
    expect(text).toMatch(/worker_reactor_lag_events \d+/);
    expect(text).toMatch(/worker_pending_work \d+/);
    expect(text).toMatch(/order_repair_passes [1-9]\d*/);
  });

  it('shows in /metrics the CPU of each role\'s thread, so an operator sees which role keeps the process busy', async () => {
    if (process.platform !== 'linux') return; // per-thread CPU comes from /proc
    const body = await (await fetch(`${started.service.baseUrl}/metrics`)).text();
    for (const role of ['api', 'worker', 'projector']) {
      const seconds = Number(new RegExp(`aftersales_thread_cpu_seconds\\{role="${role}"\\} ([0-9.e+-]+)`).exec(body)?.[1]);
      // Every role has started (loading its modules alone takes a good part of a second), so its thread has used some CPU.
      expect(seconds).toBeGreaterThan(0);
    }
  });
});
