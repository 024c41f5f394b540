import { loadConfig } from '@aftersales/config';
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
import { answer, FakeServer, refusedUrl, verifiedSignature, type Responder } from './outbound-support';

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
