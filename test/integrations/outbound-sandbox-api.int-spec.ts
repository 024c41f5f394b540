import { Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ExecuteCaseCommand } from '@aftersales/application';
import { DEVELOPMENT_WEBHOOK_SECRET } from '@aftersales/config';
import { SandboxCarrier, SandboxPaymentCentre } from '@aftersales/integrations';
import { daysAgo, orderBody, startCommandApp, token, type CommandApp } from '../commands/support/app';

jest.setTimeout(30_000);

/**
 * The sandboxes against the real API on a real port: their callbacks must get
 * through its signature check and record what a real provider's would.
 */
describe('sandbox providers answering the real API', () => {
  let api: CommandApp;
  let apiUrl: string;
  const t: Record<string, string> = {};
  const closables: Array<{ close(): Promise<void> }> = [];
  let orders = 0;

  beforeAll(async () => {
    api = await startCommandApp();
    await api.app.listen(0, '127.0.0.1');
    apiUrl = await api.app.getUrl();
    t.integration = await token({ sub: 'order-system', role: 'integration' });
    t.buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
  });

  /** A callback the API refused, or one given up, is logged as a warning: none may be. */
  let warnings: jest.SpyInstance;
  beforeEach(() => {
    warnings = jest.spyOn(Logger.prototype, 'warn');
  });

  afterEach(async () => {
    await Promise.all(closables.splice(0).map((c) => c.close()));
    expect(warnings.mock.calls.filter(([message]) => /sandbox callback/.test(String(message)))).toEqual([]);
    warnings.mockRestore();
  });

  afterAll(async () => {
    await api?.close();
  });

  async function order(delivered: boolean): Promise<string> {
    orders += 1;
    const orderId = `out-${orders}`;
    expect((await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody())).status).toBe(201);
    if (delivered) {
      expect((await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `OUT${orders}`, shippedAt: daysAgo(3) })).status).toBe(200);
      expect((await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) })).status).toBe(200);
    }
    return orderId;
  }

  async function openCase(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await api.call('post', '/v1/cases', t.buyer, body);
    expect(response.status).toBe(201);
    return response.body;
  }

  const eventTypes = async (caseId: string): Promise<string[]> =>
    (await api.call('get', `/v1/cases/${caseId}/events`, t.agent)).body.items.map((e: { type: string }) => e.type);

  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('the sandbox payment centre settles an issued refund through the signed callback; a resubmission records nothing new', async () => {
    const orderId = await order(false);
    const kase = await openCase({ orderId, kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L2', quantity: 1 }] });
    expect(kase).toMatchObject({ status: 'refunding', refunds: [{ status: 'pending' }] });
    const caseId = kase.caseId as string;
    const refundId = (kase.refunds as Array<{ refundId: string }>)[0].refundId;

    const sandbox = new SandboxPaymentCentre({ baseUrl: apiUrl, secret: DEVELOPMENT_WEBHOOK_SECRET, settleMs: 50, retryDelayMs: 50 });
    closables.push(sandbox);
    const submission = { refundId, caseId, orderId, amount: 9_999, currency: 'CNY', purpose: 'refund' as const, express: false };
    const { providerRef } = await sandbox.submitRefund(submission);

    const settled = await eventually(
      async () => (await api.call('get', `/v1/cases/${caseId}`, t.buyer)).body,
      (body) => body.status === 'completed',
    );
    expect(settled.refunds).toMatchObject([{ refundId, status: 'settled' }]);
    const events = (await api.call('get', `/v1/cases/${caseId}/events`, t.agent)).body.items as Array<{ type: string; data: Record<string, unknown> }>;
    expect(events.filter((e) => e.type === 'RefundSettled')).toEqual([expect.objectContaining({ data: expect.objectContaining({ refundId, providerRef }) })]);
    expect((await api.call('get', `/v1/orders/${orderId}`, t.integration)).body.refundLedger).toMatchObject({ reserved: 0, refunded: 9_999 });

    // Resubmitted, as the worker does for a refund whose callback it never saw: settled again, acknowledged, nothing appended.
    const head = await api.head();
    await sandbox.submitRefund(submission);
    expect(sandbox.pending).toBe(1);
    await eventually(async () => sandbox.pending, (pending) => pending === 0);
    expect(await api.head()).toBe(head);
    expect((await eventTypes(caseId)).filter((type) => type === 'RefundSettled')).toHaveLength(1);
  });

  it('the sandbox carrier\'s booking is recorded, and its progress arrives as collected then delivered scans', async () => {
    const orderId = await order(true);
    const kase = await openCase({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: true });
    const caseId = kase.caseId as string;
    expect((await api.call('post', `/v1/cases/${caseId}/approve`, t.merchant)).status).toBe(200);

    const carrier = new SandboxCarrier({ baseUrl: apiUrl, secret: DEVELOPMENT_WEBHOOK_SECRET, progressAfterMs: 300, retryDelayMs: 100 });
    closables.push(carrier);
    const booking = await carrier.bookPickup({ caseId, orderId, buyerId: 'u-buyer' });
    // Recorded as the pickup worker records it: a system command through the command bus.
    const actor = { role: 'system', id: 'pickups' } as const;
    await api.app.get(CommandBus).execute(
      new ExecuteCaseCommand(caseId, { type: 'schedule-pickup', actor, data: booking }, { actor, channel: 'api', correlationId: `pickup-${caseId}` }),
    );

    const types = await eventually(
      () => eventTypes(caseId),
      (seen) => seen.includes('ReturnDelivered'),
    );
    expect(types.filter((type) => ['PickupScheduled', 'ReturnCollected', 'ReturnDelivered'].includes(type))).toEqual([
      'PickupScheduled',
      'ReturnCollected',
      'ReturnDelivered',
    ]);
    expect((await api.call('get', `/v1/cases/${caseId}`, t.buyer)).body.pickup).toMatchObject({ trackingNumber: booking.trackingNumber });
  });
});
