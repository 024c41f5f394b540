import { createHmac } from 'node:crypto';
import type request from 'supertest';
import { CommandBus } from '@nestjs/cqrs';
import { ExecuteCaseCommand, PARCEL_INDEX, type ParcelIndex } from '@aftersales/application';
import { DEVELOPMENT_WEBHOOK_SECRET } from '@aftersales/config';
import { daysAgo, orderBody, PROBLEM, startCommandApp, token, type CommandApp } from '../commands/support/app';

jest.setTimeout(30_000);

const LOGISTICS = '/v1/integrations/logistics/events';
const PAYMENTS = '/v1/integrations/payments/events';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);
let lastT = 0;
/**
 * A fresh delivery's timestamp: a provider re-sending an event signs it anew.
 * Strictly increasing from four minutes ago, so two deliveries of one body in
 * the same second still carry different signatures (within the 5 minutes).
 */
const freshT = (): number => (lastT = Math.max(lastT + 1, nowSeconds() - 240));

/** `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as a provider signs. */
function sign(body: string, t = nowSeconds(), secret = DEVELOPMENT_WEBHOOK_SECRET): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

describe('signed integration callbacks', () => {
  let api: CommandApp;
  const t: Record<string, string> = {};
  let orderCount = 0;

  beforeAll(async () => {
    api = await startCommandApp();
    t.integration = await token({ sub: 'order-system', role: 'integration' });
    t.buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
  });

  afterAll(async () => {
    await api?.close();
  });

  /** Posts `body` as these exact bytes, signed unless `signature` says otherwise (null: no header). */
  function callback(path: string, body: unknown, signature?: string | null, headers: Record<string, string> = {}): Promise<request.Response> {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const signed: Record<string, string> = signature === undefined ? { 'X-Signature': sign(raw, freshT()) } : signature === null ? {} : { 'X-Signature': signature };
    return api.call('post', path, undefined, raw, { 'Content-Type': 'application/json', ...signed, ...headers });
  }

  async function order(status: 'placed' | 'delivered'): Promise<string> {
    orderCount += 1;
    const orderId = `io-${orderCount}`;
    expect((await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody())).status).toBe(201);
    if (status === 'delivered') {
      expect((await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `OUT${orderCount}`, shippedAt: daysAgo(3) })).status).toBe(200);
      expect((await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) })).status).toBe(200);
    }
    return orderId;
  }

  async function openCase(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await api.call('post', '/v1/cases', t.buyer, body);
    expect(response.status).toBe(201);
    return response.body;
  }

  async function step(caseId: string, action: string, bearer: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await api.call('post', `/v1/cases/${caseId}/${action}`, bearer, body);
    if (response.status !== 200) throw new Error(`${action}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  const eventTypes = async (caseId: string): Promise<string[]> =>
    (await api.call('get', `/v1/cases/${caseId}/events`, t.agent)).body.items.map((e: { type: string }) => e.type);

  /** The callback is refused with `status` and appends nothing. */
  async function expectRefused(call: () => Promise<request.Response>, status: number): Promise<request.Response> {
    const head = await api.head();
    const response = await call();
    expect({ status: response.status, body: response.body }).toMatchObject({ status, body: { status } });
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(await api.head()).toBe(head);
    return response;
  }

  /** A return_and_refund case, approved, the parcel shipped back as `trackingNumber`. */
  async function returnInTransit(trackingNumber: string): Promise<string> {
    const orderId = await order('delivered');
    const kase = await openCase({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] });
    const caseId = kase.caseId as string;
    await step(caseId, 'approve', t.merchant);
    expect(await step(caseId, 'ship-return', t.buyer, { carrier: 'sf', trackingNumber })).toMatchObject({ status: 'return_in_transit' });
    return caseId;
  }

  describe('logistics', () => {
    it('collected then delivered move the case; the same scan again is 200 and appends nothing', async () => {
      const caseId = await returnInTransit('RET-100');
      const at = new Date().toISOString();

      const collected = await callback(LOGISTICS, { trackingNumber: 'RET-100', event: 'collected', at });
      expect(collected.status).toBe(200);
      expect(collected.body).toEqual({ accepted: true, recorded: true, position: await api.head() });

      const again = await api.head();
      const repeat = await callback(LOGISTICS, { trackingNumber: 'RET-100', event: 'collected', at });
      expect(repeat.status).toBe(200);
      expect(repeat.body).toMatchObject({ accepted: true, recorded: false });
      expect(await api.head()).toBe(again);

      const transit = await callback(LOGISTICS, { trackingNumber: 'RET-100', event: 'in_transit', at });
      expect(transit.body).toEqual({ accepted: true, recorded: false });
      expect(await api.head()).toBe(again);

      const delivered = await callback(LOGISTICS, { trackingNumber: 'RET-100', event: 'delivered', at });
      expect(delivered.status).toBe(200);
      expect(delivered.body).toMatchObject({ accepted: true, recorded: true });

      const before = await api.head();
      expect((await callback(LOGISTICS, { trackingNumber: 'RET-100', event: 'delivered', at })).body).toMatchObject({ recorded: false });
      expect(await api.head()).toBe(before);

      const types = await eventTypes(caseId);
      expect(types).toEqual(expect.arrayContaining(['ReturnShipped', 'ReturnCollected', 'ReturnDelivered']));
      expect(types.filter((type) => type === 'ReturnCollected')).toHaveLength(1);
      const events = (await api.call('get', `/v1/cases/${caseId}/events`, t.agent)).body.items as Array<{ type: string; metadata: Record<string, unknown> }>;
      expect(events.find((e) => e.type === 'ReturnCollected')?.metadata).toMatchObject({ actor: { role: 'integration', id: 'logistics' }, channel: 'api' });

      // A late scan once the case has moved past the parcel is acknowledged, not refused.
      await step(caseId, 'confirm-receipt', t.merchant, { inspection: 'passed' });
      const late = await api.head();
      const scan = await callback(LOGISTICS, { trackingNumber: 'RET-100', event: 'delivered', at });
      expect({ status: scan.status, body: scan.body }).toMatchObject({ status: 200, body: { recorded: false } });
      expect(await api.head()).toBe(late);
    });

    it('refuses a missing, malformed or wrong signature, an old timestamp and a replayed signature with 401', async () => {
      await returnInTransit('RET-200');
      const body = JSON.stringify({ trackingNumber: 'RET-200', event: 'collected', at: new Date().toISOString() });

      await expectRefused(() => callback(LOGISTICS, body, null), 401);
      await expectRefused(() => callback(LOGISTICS, body, 'v1=abc'), 401);
      await expectRefused(() => callback(LOGISTICS, body, sign(body, nowSeconds(), 'another-secret')), 401);
      // Signed over other bytes than were sent (whitespace counts).
      await expectRefused(() => callback(LOGISTICS, body, sign(`${body} `)), 401);
      await expectRefused(() => callback(LOGISTICS, body, sign(body, nowSeconds() - 301)), 401);
      await expectRefused(() => callback(LOGISTICS, body, sign(body, nowSeconds() + 600)), 401);

      const signature = sign(body);
      expect((await callback(LOGISTICS, body, signature)).status).toBe(200);
      const replay = await expectRefused(() => callback(LOGISTICS, body, signature), 401);
      expect(replay.body.detail).toMatch(/accepted once/);
    });

    it('401 comes before 400: an unsigned malformed body is 401, a signed one 400', async () => {
      await expectRefused(() => callback(LOGISTICS, '{"trackingNumber":', null), 401);
      await expectRefused(() => callback(LOGISTICS, '{"trackingNumber":'), 400);
      await expectRefused(() => callback(LOGISTICS, { trackingNumber: 'RET-1', event: 'lost', at: 'yesterday' }), 400);
    });

    it('an unknown tracking number is 404', async () => {
      await expectRefused(() => callback(LOGISTICS, { trackingNumber: 'NO-SUCH-PARCEL', event: 'collected', at: new Date().toISOString() }), 404);
    });

    it('a booked pickup: collected by its tracking number moves the case into transit', async () => {
      const orderId = await order('delivered');
      const kase = await openCase({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: true });
      const caseId = kase.caseId as string;
      await step(caseId, 'approve', t.merchant);
      // The carrier booking is a system command (no route): dispatched as the pickup worker will.
      const windowStart = new Date(Date.now() + 3_600_000).toISOString();
      const windowEnd = new Date(Date.now() + 7_200_000).toISOString();
      await api.app.get(CommandBus).execute(
        new ExecuteCaseCommand(
          caseId,
          { type: 'schedule-pickup', actor: { role: 'system', id: 'pickups' }, data: { carrier: 'sf', trackingNumber: 'PICK-500', windowStart, windowEnd } },
          { actor: { role: 'system', id: 'pickups' }, channel: 'api', correlationId: 'pickup-500' },
        ),
      );

      const collected = await callback(LOGISTICS, { trackingNumber: 'PICK-500', event: 'collected', at: new Date().toISOString() });
      expect(collected.status).toBe(200);
      expect(collected.body).toMatchObject({ recorded: true });
      expect((await api.call('get', `/v1/cases/${caseId}`, t.buyer)).body).toMatchObject({ status: 'return_in_transit' });
      expect(await eventTypes(caseId)).toEqual(expect.arrayContaining(['PickupScheduled', 'ReturnCollected']));
    });

    it('a collected scan for a case withdrawn before its pickup was collected is 409 and appends nothing', async () => {
      const orderId = await order('delivered');
      const kase = await openCase({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: true });
      const caseId = kase.caseId as string;
      await step(caseId, 'approve', t.merchant);
      await api.app.get(CommandBus).execute(
        new ExecuteCaseCommand(
          caseId,
          {
            type: 'schedule-pickup',
            actor: { role: 'system', id: 'pickups' },
            data: { carrier: 'sf', trackingNumber: 'PICK-600', windowStart: new Date().toISOString(), windowEnd: new Date(Date.now() + 3_600_000).toISOString() },
          },
          { actor: { role: 'system', id: 'pickups' }, channel: 'api', correlationId: 'pickup-600' },
        ),
      );
      await step(caseId, 'withdraw', t.buyer);
      await expectRefused(() => callback(LOGISTICS, { trackingNumber: 'PICK-600', event: 'collected', at: new Date().toISOString() }), 409);
    });

    it('a replacement parcel: delivered records ReplacementDelivered', async () => {
      const orderId = await order('delivered');
      const kase = await openCase({ orderId, kind: 'reship', reason: 'missing_item', lines: [{ lineId: 'L2', quantity: 1 }] });
      const caseId = kase.caseId as string;
      await step(caseId, 'approve', t.merchant);
      expect(await step(caseId, 'ship-replacement', t.merchant, { carrier: 'sf', trackingNumber: 'REP-300' })).toMatchObject({ status: 'replacement_in_transit' });

      const at = new Date().toISOString();
      expect((await callback(LOGISTICS, { trackingNumber: 'REP-300', event: 'collected', at })).body).toEqual({ accepted: true, recorded: false });
      const delivered = await callback(LOGISTICS, { trackingNumber: 'REP-300', event: 'delivered', at });
      expect(delivered.status).toBe(200);
      expect(delivered.body).toMatchObject({ recorded: true });
      expect(await eventTypes(caseId)).toContain('ReplacementDelivered');
    });

    it('keeps Idempotency-Key per sender: the same key and body again returns the first answer', async () => {
      await returnInTransit('RET-400');
      const body = JSON.stringify({ trackingNumber: 'RET-400', event: 'collected', at: new Date().toISOString() });
      const first = await callback(LOGISTICS, body, undefined, { 'Idempotency-Key': 'scan-400' });
      expect(first.body).toMatchObject({ recorded: true });
      const head = await api.head();
      // A fresh signature, the same key: the recorded answer, nothing appended.
      const second = await callback(LOGISTICS, body, undefined, { 'Idempotency-Key': 'scan-400' });
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(await api.head()).toBe(head);
    });
  });

  describe('tracking numbers', () => {
    /** A return_and_refund case of `buyer`, approved, waiting for the parcel. */
    async function awaitingReturn(bearer: string, buyerId: string, pickup = false): Promise<string> {
      orderCount += 1;
      const orderId = `io-${orderCount}`;
      expect((await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody({ buyerId }))).status).toBe(201);
      await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `OUT${orderCount}`, shippedAt: daysAgo(3) });
      await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) });
      const opened = await api.call('post', '/v1/cases', bearer, { orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup });
      expect(opened.status).toBe(201);
      await step(opened.body.caseId, 'approve', t.merchant);
      return opened.body.caseId as string;
    }

    /** The pickup worker's booking, as the system records it (the courier's number comes from the logistics port). */
    async function pickupBooked(caseId: string, trackingNumber: string): Promise<void> {
      await api.app.get(CommandBus).execute(
        new ExecuteCaseCommand(
          caseId,
          {
            type: 'schedule-pickup',
            actor: { role: 'system', id: 'pickups' },
            data: { carrier: 'sf', trackingNumber, windowStart: new Date().toISOString(), windowEnd: new Date(Date.now() + 3_600_000).toISOString() },
          },
          { actor: { role: 'system', id: 'pickups' }, channel: 'api', correlationId: `pickup-${trackingNumber}` },
        ),
      );
    }

    it('a number another open case registered is refused with 422 and the scans stay with the first case', async () => {
      const victim = await returnInTransit('RET-700');
      const attackerToken = await token({ sub: 'u-attacker', role: 'buyer' });
      const attacker = await awaitingReturn(attackerToken, 'u-attacker');

      const head = await api.head();
      const refused = await api.call('post', `/v1/cases/${attacker}/ship-return`, attackerToken, { carrier: 'sf', trackingNumber: 'RET-700' });
      expect({ status: refused.status, rule: refused.body.rule }).toEqual({ status: 422, rule: 'tracking_number_in_use' });
      expect(refused.headers['content-type']).toMatch(PROBLEM);
      expect(await api.head()).toBe(head);

      const collected = await callback(LOGISTICS, { trackingNumber: 'RET-700', event: 'collected', at: new Date().toISOString() });
      expect(collected.body).toMatchObject({ recorded: true });
      expect(await eventTypes(victim)).toContain('ReturnCollected');
      expect(await eventTypes(attacker)).not.toContain('ReturnCollected');
      expect((await api.call('get', `/v1/cases/${attacker}`, attackerToken)).body).toMatchObject({ status: 'awaiting_return' });
    });

    it('answers 404 and 409 before 422: the number is only refused to a caller who could ship this case now', async () => {
      await returnInTransit('RET-710');
      const stranger = await token({ sub: 'u-stranger', role: 'buyer' });
      const other = await awaitingReturn(t.buyer, 'u-buyer');
      expect((await api.call('post', `/v1/cases/${other}/ship-return`, stranger, { carrier: 'sf', trackingNumber: 'RET-710' })).status).toBe(404);
      expect((await api.call('post', `/v1/cases/${other}/ship-return`, t.buyer, { carrier: 'sf', trackingNumber: 'RET-711' })).status).toBe(200);
      expect((await api.call('post', `/v1/cases/${other}/ship-return`, t.buyer, { carrier: 'sf', trackingNumber: 'RET-710' })).status).toBe(409);
    });

    it('a replacement parcel with a number another open case holds is refused too', async () => {
      await returnInTransit('RET-720');
      const orderId = await order('delivered');
      const kase = await openCase({ orderId, kind: 'reship', reason: 'missing_item', lines: [{ lineId: 'L2', quantity: 1 }] });
      await step(kase.caseId as string, 'approve', t.merchant);
      const refused = await api.call('post', `/v1/cases/${kase.caseId}/ship-replacement`, t.merchant, { carrier: 'sf', trackingNumber: 'RET-720' });
      expect({ status: refused.status, rule: refused.body.rule }).toEqual({ status: 422, rule: 'tracking_number_in_use' });
    });

    it('a number becomes free once its case has ended, and its scans then go to the case that took it', async () => {
      const first = await awaitingReturn(t.buyer, 'u-buyer', true);
      await pickupBooked(first, 'PICK-730');
      const second = await awaitingReturn(t.buyer, 'u-buyer');
      const taken = await api.call('post', `/v1/cases/${second}/ship-return`, t.buyer, { carrier: 'sf', trackingNumber: 'PICK-730' });
      expect({ status: taken.status, rule: taken.body.rule }).toEqual({ status: 422, rule: 'tracking_number_in_use' });

      await step(first, 'withdraw', t.buyer);
      expect(await step(second, 'ship-return', t.buyer, { carrier: 'sf', trackingNumber: 'PICK-730' })).toMatchObject({ status: 'return_in_transit' });
      const collected = await callback(LOGISTICS, { trackingNumber: 'PICK-730', event: 'collected', at: new Date().toISOString() });
      expect(collected.body).toMatchObject({ recorded: true });
      expect(await eventTypes(second)).toContain('ReturnCollected');
    });

    it('a scan that arrives while the index still shows the number with the ended case waits for the index and goes to the case that took it', async () => {
      const first = await awaitingReturn(t.buyer, 'u-buyer', true);
      await pickupBooked(first, 'PICK-731');
      const second = await awaitingReturn(t.buyer, 'u-buyer');
      await step(first, 'withdraw', t.buyer);

      // The index takes in the second case's binding late, as under load: the scan must not go to the first case meanwhile.
      const index = api.app.get<ParcelIndex>(PARCEL_INDEX);
      const record = index.record.bind(index);
      const late = jest.spyOn(index, 'record').mockImplementation(async (changes, position) => {
        if (changes.some((change) => 'trackingNumber' in change && change.trackingNumber === 'PICK-731')) await new Promise((resolve) => setTimeout(resolve, 300));
        return record(changes, position);
      });
      try {
        expect(await step(second, 'ship-return', t.buyer, { carrier: 'sf', trackingNumber: 'PICK-731' })).toMatchObject({ status: 'return_in_transit' });
        const collected = await callback(LOGISTICS, { trackingNumber: 'PICK-731', event: 'collected', at: new Date().toISOString() });
        expect(collected.body).toMatchObject({ recorded: true });
      } finally {
        late.mockRestore();
      }
      expect(await eventTypes(second)).toContain('ReturnCollected');
      expect(await eventTypes(first)).not.toContain('ReturnCollected');
    });
  });

  describe('payments', () => {
    /** A refund_only case approved at once before shipment: refunding, its one refund outstanding. */
    async function refunding(): Promise<{ caseId: string; orderId: string; refundId: string }> {
      const orderId = await order('placed');
      const kase = await openCase({ orderId, kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L2', quantity: 1 }] });
      expect(kase).toMatchObject({ status: 'refunding', refunds: [{ status: 'pending' }] });
      const caseId = kase.caseId as string;
      return { caseId, orderId, refundId: (kase.refunds as Array<{ refundId: string }>)[0].refundId };
    }

    it('succeeded settles the refund, completes the case and moves the ledger; again is 200 and appends nothing', async () => {
      const { caseId, orderId, refundId } = await refunding();
      const ledgerBefore = (await api.call('get', `/v1/orders/${orderId}`, t.integration)).body.refundLedger;
      expect(ledgerBefore).toMatchObject({ reserved: 9_999, refunded: 0 });

      const body = { refundId, status: 'succeeded', providerRef: 'pay-1', at: new Date().toISOString() };
      const settled = await callback(PAYMENTS, body);
      expect(settled.status).toBe(200);
      expect(settled.body).toMatchObject({ accepted: true, recorded: true });

      expect(await eventTypes(caseId)).toEqual(expect.arrayContaining(['RefundSettled', 'CaseCompleted']));
      expect((await api.call('get', `/v1/cases/${caseId}`, t.buyer)).body).toMatchObject({ status: 'completed' });
      const ledger = (await api.call('get', `/v1/orders/${orderId}`, t.integration)).body.refundLedger;
      expect(ledger).toMatchObject({ reserved: 0, refunded: 9_999 });

      const head = await api.head();
      const again = await callback(PAYMENTS, body);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ accepted: true, recorded: false });
      // A late failure report for a settled refund says nothing new either.
      expect((await callback(PAYMENTS, { refundId, status: 'failed', error: 'late', at: new Date().toISOString() })).body).toMatchObject({ recorded: false });
      expect(await api.head()).toBe(head);
    });

    it('failed records RefundFailed as the next attempt, not final; the refund stays outstanding', async () => {
      const { caseId, refundId } = await refunding();
      const firstAt = new Date(Date.now() - 2000).toISOString();
      const secondAt = new Date(Date.now() - 1000).toISOString();
      const first = await callback(PAYMENTS, { refundId, status: 'failed', error: 'account closed', at: firstAt });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ recorded: true });
      expect((await callback(PAYMENTS, { refundId, status: 'failed', at: secondAt })).body).toMatchObject({ recorded: true });

      const events = (await api.call('get', `/v1/cases/${caseId}/events`, t.agent)).body.items as Array<{ type: string; data: Record<string, unknown> }>;
      const failures = events.filter((e) => e.type === 'RefundFailed').map((e) => e.data);
      expect(failures).toEqual([
        { refundId, error: 'account closed', attempt: 1, final: false, at: firstAt },
        { refundId, attempt: 2, final: false, at: secondAt },
      ]);
      expect((await api.call('get', `/v1/cases/${caseId}`, t.buyer)).body).toMatchObject({ status: 'refunding' });
    });

    it('a failed report sent again (freshly signed, no Idempotency-Key) is 200 and appends nothing', async () => {
      const { caseId, refundId } = await refunding();
      const body = { refundId, status: 'failed', error: 'account closed', at: new Date().toISOString() };
      expect((await callback(PAYMENTS, body)).body).toMatchObject({ recorded: true });

      const head = await api.head();
      const repeat = await callback(PAYMENTS, body);
      expect({ status: repeat.status, body: repeat.body }).toMatchObject({ status: 200, body: { accepted: true, recorded: false } });
      expect(await api.head()).toBe(head);
      expect((await eventTypes(caseId)).filter((type) => type === 'RefundFailed')).toHaveLength(1);
    });

    it('an unknown refund id is 404; one that cannot be a refund id is 400', async () => {
      const { caseId } = await refunding();
      const at = new Date().toISOString();
      await expectRefused(() => callback(PAYMENTS, { refundId: `${caseId}-r999`, status: 'succeeded', at }), 404);
      await expectRefused(() => callback(PAYMENTS, { refundId: 'no-such-case-r1', status: 'succeeded', at }), 404);
      await expectRefused(() => callback(PAYMENTS, { refundId: 'not a refund', status: 'succeeded', at }), 400);
    });

    it('is not reachable with a bearer token instead of a signature', async () => {
      const { refundId } = await refunding();
      const body = JSON.stringify({ refundId, status: 'succeeded', at: new Date().toISOString() });
      await expectRefused(() => api.call('post', PAYMENTS, t.integration, body, { 'Content-Type': 'application/json' }), 401);
    });
  });

  it('documents both routes with the X-Signature header and no bearer security', async () => {
    const document = (await api.call('get', '/docs-json')).body;
    for (const path of [LOGISTICS, PAYMENTS]) {
      const operation = document.paths[path].post;
      expect(operation.security).toEqual([]);
      expect(operation.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'X-Signature', in: 'header', required: true })]));
      expect(operation.requestBody).toBeDefined();
      expect(operation.responses['401']).toBeDefined();
    }
  });
});
