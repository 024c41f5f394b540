import { Test } from '@nestjs/testing';
import { loadConfig } from '@aftersales/config';
import {
  CARRIER,
  HttpCarrier,
  HttpPaymentCentre,
  HttpShippingInsurer,
  IntegrationsModule,
  PAYMENT_CENTRE,
  ProviderRetryableError,
  SandboxCallbacks,
  SandboxCarrier,
  SandboxPaymentCentre,
  SandboxShippingInsurer,
  SHIPPING_INSURER,
  type PaymentCentre,
  type RefundSubmission,
} from '@aftersales/integrations';
import { answer, FakeServer, refusedUrl, sleep, verifiedSignature } from './outbound-support';

const SECRET = 'whsec-sandbox-test';
const PAYMENTS_PATH = '/v1/integrations/payments/events';
const LOGISTICS_PATH = '/v1/integrations/logistics/events';

const refund = (refundId: string): RefundSubmission => ({
  refundId,
  caseId: refundId.replace(/-r[0-9]+$/, ''),
  orderId: 'o-1',
  amount: 4_999,
  currency: 'CNY',
  purpose: 'refund',
  express: false,
});

describe('sandbox providers answering through signed callbacks', () => {
  let api: FakeServer;
  const opened: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(closable: T): T => {
    opened.push(closable);
    return closable;
  };

  beforeEach(async () => {
    api = await FakeServer.start();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
    await api.close();
  });

  describe('payment centre', () => {
    const paymentCentre = (settleMs: number, extra: { baseUrl?: string; retryDelayMs?: number; attempts?: number } = {}) =>
      track(new SandboxPaymentCentre({ baseUrl: api.url, secret: SECRET, settleMs, retryDelayMs: 20, ...extra }));

    it('accepts at once and posts a signed succeeded callback after the settle delay', async () => {
      const sandbox = paymentCentre(150);
      const submittedAt = Date.now();
      const accepted = await sandbox.submitRefund(refund('c-1-r2'));
      expect(accepted).toEqual({ accepted: true, providerRef: expect.stringMatching(/^sbx-pay-[0-9]{12}$/) });
      expect(api.received).toHaveLength(0);

      const [callback] = await api.waitFor(1);
      expect(callback.receivedAt - submittedAt).toBeGreaterThanOrEqual(140);
      expect(callback.method).toBe('POST');
      expect(callback.path).toBe(PAYMENTS_PATH);
      expect(callback.headers['content-type']).toBe('application/json');
      expect(callback.json).toEqual({ refundId: 'c-1-r2', status: 'succeeded', providerRef: accepted.providerRef, at: expect.any(String) });
      const at = Date.parse((callback.json as { at: string }).at);
      expect(at).toBeGreaterThanOrEqual(submittedAt);
      expect(Math.abs(verifiedSignature(SECRET, callback) * 1000 - at)).toBeLessThan(2000);
    });

    it('settles a refund once while it is pending, however often it is submitted; again once it settled', async () => {
      const sandbox = paymentCentre(100);
      const first = await sandbox.submitRefund(refund('c-2-r1'));
      const again = await sandbox.submitRefund(refund('c-2-r1'));
      await sandbox.submitRefund(refund('c-2-r1'));
      expect(again.providerRef).toBe(first.providerRef);
      await sandbox.submitRefund(refund('c-3-r1'));

      await api.waitFor(2);
      await sleep(300);
      expect(api.received.map((r) => (r.json as { refundId: string }).refundId).sort()).toEqual(['c-2-r1', 'c-3-r1']);
      expect(sandbox.pending).toBe(0);

      // Settled before: a resubmission (the worker reconciling a lost callback) settles it again, same reference.
      await sandbox.submitRefund(refund('c-2-r1'));
      const [, , resettled] = await api.waitFor(3);
      expect(resettled.json).toMatchObject({ refundId: 'c-2-r1', providerRef: first.providerRef });
      verifiedSignature(SECRET, resettled);
    });

    it('retries a callback the API could not take yet, signing each delivery anew, and stops at the first 2xx', async () => {
      api.respondWith((_request, response, index) => answer(response, index < 2 ? 503 : 200, {}));
      const sandbox = paymentCentre(0, { retryDelayMs: 30 });
      await sandbox.submitRefund(refund('c-4-r1'));

      const deliveries = await api.waitFor(3);
      await sleep(200);
      expect(api.received).toHaveLength(3);
      const timestamps = deliveries.map((d) => verifiedSignature(SECRET, d));
      // The API accepts a signature once: every retry carries a later timestamp, so a new signature.
      expect(timestamps[1]).toBeGreaterThan(timestamps[0]);
      expect(timestamps[2]).toBeGreaterThan(timestamps[1]);
      expect(new Set(deliveries.map((d) => d.body.toString())).size).toBe(1);
      expect(sandbox.pending).toBe(0);
    });

    it('does not retry a callback the API refused (404 for a refund it does not know)', async () => {
      api.respondWith((_request, response) => answer(response, 404, { title: 'Not Found' }));
      const sandbox = paymentCentre(0);
      await sandbox.submitRefund(refund('c-5-r1'));
      await api.waitFor(1);
      await sleep(200);
      expect(api.received).toHaveLength(1);
      expect(sandbox.pending).toBe(0);
    });

    it('close() cancels a pending settlement, and a refund submitted after close is retryable', async () => {
      const sandbox = paymentCentre(200);
      await sandbox.submitRefund(refund('c-6-r1'));
      await sandbox.close();
      await sleep(400);
      expect(api.received).toHaveLength(0);
      await expect(sandbox.submitRefund(refund('c-6-r1'))).rejects.toBeInstanceOf(ProviderRetryableError);
    });

    it('a pending settlement holds no timer that keeps the process alive', async () => {
      const keepingAlive = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
      const before = keepingAlive();
      await paymentCentre(60_000).submitRefund(refund('c-6-r2'));
      await track(new SandboxCarrier({ baseUrl: api.url, secret: SECRET, progressAfterMs: 60_000 })).bookPickup({ caseId: 'c-6', orderId: 'o-1', buyerId: 'u-1' });
      expect(keepingAlive()).toBe(before);
    });

    it('close() ends a delivery waiting between retries', async () => {
      const sandbox = paymentCentre(0, { baseUrl: await refusedUrl(), retryDelayMs: 10_000 });
      await sandbox.submitRefund(refund('c-7-r1'));
      await sleep(100);
      const closing = Date.now();
      await sandbox.close();
      expect(Date.now() - closing).toBeLessThan(1000);
    });
  });

  describe('callback delivery', () => {
    it('gives up after its tries when nothing listens, without throwing', async () => {
      const callbacks = track(new SandboxCallbacks({ baseUrl: await refusedUrl(), secret: SECRET, attempts: 3, retryDelayMs: 10 }));
      await expect(callbacks.deliver(PAYMENTS_PATH, { refundId: 'c-8-r1' })).resolves.toBe('gave_up');
    });

    it('delivers under a base URL with a path, and retries 404 only when asked to', async () => {
      api.respondWith((_request, response, index) => answer(response, index === 0 ? 404 : 200, {}));
      const callbacks = track(new SandboxCallbacks({ baseUrl: `${api.url}/service/`, secret: SECRET, retryDelayMs: 10 }));
      await expect(callbacks.deliver('v1/integrations/logistics/events', { trackingNumber: 'X' }, { retryNotFound: true })).resolves.toBe('delivered');
      expect(api.received.map((r) => r.path)).toEqual(['/service/v1/integrations/logistics/events', '/service/v1/integrations/logistics/events']);

      api.respondWith((_request, response) => answer(response, 404, {}));
      await expect(callbacks.deliver(PAYMENTS_PATH, { refundId: 'c-9-r1' })).resolves.toBe('refused');
      expect(api.received).toHaveLength(3);
      expect(api.received[2].path).toBe('/service/v1/integrations/payments/events');
    });
  });

  describe('carrier', () => {
    const carrier = (options: { progressAfterMs?: number; now?: () => Date } = {}) =>
      track(new SandboxCarrier({ baseUrl: api.url, secret: SECRET, retryDelayMs: 20, ...options }));
    const pickup = (caseId: string) => ({ caseId, orderId: 'o-1', buyerId: 'u-1' });

    it('books at once: a tracking number derived from the case, the next day 09:00-18:00 UTC', async () => {
      const sandbox = carrier({ now: () => new Date('2025-03-01T23:30:00Z') });
      const booking = await sandbox.bookPickup(pickup('c-10'));
      expect(booking).toEqual({
        carrier: 'sandbox-express',
        trackingNumber: expect.stringMatching(/^SBX[0-9]{12}$/),
        windowStart: '2025-03-02T09:00:00.000Z',
        windowEnd: '2025-03-02T18:00:00.000Z',
      });
      // The same case books the same parcel, in this process or another; another case another parcel.
      expect((await sandbox.bookPickup(pickup('c-10'))).trackingNumber).toBe(booking.trackingNumber);
      expect((await carrier().bookPickup(pickup('c-10'))).trackingNumber).toBe(booking.trackingNumber);
      expect((await sandbox.bookPickup(pickup('c-11'))).trackingNumber).not.toBe(booking.trackingNumber);
    });

    it('reports no progress by itself unless asked to', async () => {
      await carrier().bookPickup(pickup('c-12'));
      await sleep(300);
      expect(api.received).toHaveLength(0);
    });

    it('with progressAfterMs, posts signed collected then delivered, once per parcel however often it is booked', async () => {
      const sandbox = carrier({ progressAfterMs: 100 });
      const bookedAt = Date.now();
      const { trackingNumber } = await sandbox.bookPickup(pickup('c-13'));
      await sandbox.bookPickup(pickup('c-13'));

      const [collected, delivered] = await api.waitFor(2);
      await sleep(300);
      expect(api.received).toHaveLength(2);
      expect(collected.path).toBe(LOGISTICS_PATH);
      expect(collected.json).toEqual({ trackingNumber, event: 'collected', at: expect.any(String) });
      expect(delivered.json).toEqual({ trackingNumber, event: 'delivered', at: expect.any(String) });
      expect(collected.receivedAt - bookedAt).toBeGreaterThanOrEqual(90);
      expect(delivered.receivedAt - bookedAt).toBeGreaterThanOrEqual(190);
      verifiedSignature(SECRET, collected);
      verifiedSignature(SECRET, delivered);
    });

    it('retries a scan of a parcel the API does not know yet (the booking not recorded): 404 then 200', async () => {
      api.respondWith((_request, response, index) => answer(response, index === 0 ? 404 : 200, {}));
      const sandbox = carrier({ progressAfterMs: 50 });
      await sandbox.bookPickup(pickup('c-14'));
      const received = await api.waitFor(3);
      expect(received.map((r) => (r.json as { event: string }).event)).toEqual(['collected', 'collected', 'delivered']);
    });

    it('close() cancels pending progress', async () => {
      const sandbox = carrier({ progressAfterMs: 100 });
      await sandbox.bookPickup(pickup('c-15'));
      await sandbox.close();
      await sleep(300);
      expect(api.received).toHaveLength(0);
    });
  });

  it('the sandbox insurer accepts every claim at once', async () => {
    const claim = { claimId: 'c-16-ins', caseId: 'c-16', orderId: 'o-1', amount: 800, currency: 'CNY' };
    await expect(new SandboxShippingInsurer().claim(claim)).resolves.toEqual({ accepted: true });
  });

  describe('IntegrationsModule', () => {
    it('provides the sandboxes by default and closes them when the application shuts down', async () => {
      const config = loadConfig({ INTEGRATION_WEBHOOK_SECRET: SECRET, SANDBOX_CALLBACK_URL: api.url, SANDBOX_PAYMENT_SETTLE_MS: '200' });
      const moduleRef = await Test.createTestingModule({ imports: [IntegrationsModule.forRoot(config)] }).compile();
      await moduleRef.init();
      expect(moduleRef.get(PAYMENT_CENTRE)).toBeInstanceOf(SandboxPaymentCentre);
      expect(moduleRef.get(CARRIER)).toBeInstanceOf(SandboxCarrier);
      expect(moduleRef.get(SHIPPING_INSURER)).toBeInstanceOf(SandboxShippingInsurer);

      await moduleRef.get<PaymentCentre>(PAYMENT_CENTRE).submitRefund(refund('c-17-r1'));
      await moduleRef.close();
      await sleep(400);
      expect(api.received).toHaveLength(0);
    });

    it('settles through the configured callback URL and secret', async () => {
      const config = loadConfig({ INTEGRATION_WEBHOOK_SECRET: SECRET, SANDBOX_CALLBACK_URL: api.url, SANDBOX_PAYMENT_SETTLE_MS: '0' });
      const moduleRef = await Test.createTestingModule({ imports: [IntegrationsModule.forRoot(config)] }).compile();
      try {
        await moduleRef.get<PaymentCentre>(PAYMENT_CENTRE).submitRefund(refund('c-18-r1'));
        const [callback] = await api.waitFor(1);
        expect(callback.path).toBe(PAYMENTS_PATH);
        verifiedSignature(SECRET, callback);
      } finally {
        await moduleRef.close();
      }
    });

    it('provides the HTTP adapters when PAYMENTS and LOGISTICS are http', async () => {
      const config = loadConfig({
        PAYMENTS: 'http',
        PAYMENTS_URL: 'https://pay.example/refunds',
        LOGISTICS: 'http',
        LOGISTICS_URL: 'https://carrier.example/pickups',
      });
      const moduleRef = await Test.createTestingModule({ imports: [IntegrationsModule.forRoot(config)] }).compile();
      expect(moduleRef.get(PAYMENT_CENTRE)).toBeInstanceOf(HttpPaymentCentre);
      expect(moduleRef.get(CARRIER)).toBeInstanceOf(HttpCarrier);
      expect(moduleRef.get(SHIPPING_INSURER)).toBeInstanceOf(HttpShippingInsurer);
      await moduleRef.close();
    });
  });
});
