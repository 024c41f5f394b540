import { daysAgo, orderBody, PROBLEM, startCommandApp, token, type CommandApp } from './support/app';

jest.setTimeout(30_000);

describe('order routes', () => {
  let api: CommandApp;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    api = await startCommandApp();
    tokens.integration = await token({ sub: 'order-system', role: 'integration' });
    tokens.buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    tokens.otherBuyer = await token({ sub: 'u-other', role: 'buyer' });
    tokens.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    tokens.otherMerchant = await token({ sub: 'm2-staff', role: 'merchant', merchantId: 'm2' });
    tokens.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
    tokens.foreignAgent = await token({ sub: 'agent-x', role: 'agent', businessLine: 'groceries' });
    tokens.arbitrator = await token({ sub: 'arb-1', role: 'arbitrator', businessLine: 'apparel' });
    tokens.admin = await token({ sub: 'admin-1', role: 'admin' });
  });

  afterAll(async () => {
    await api?.close();
  });

  const put = (orderId: string, body: unknown, bearer = tokens.integration, headers?: Record<string, string>) =>
    api.call('put', `/v1/orders/${orderId}`, bearer, body, headers);

  describe('PUT /v1/orders/:orderId', () => {
    it('registers a new snapshot with 201, the order view and its position', async () => {
      const before = await api.head();
      const response = await put('o-new', orderBody());
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        orderId: 'o-new',
        buyerId: 'u-buyer',
        merchantId: 'm1',
        currency: 'CNY',
        paidAmount: 30_999,
        status: 'placed',
        revision: 0,
        refundLedger: { paid: 30_999, reserved: 0, refunded: 0, refundable: 30_999 },
      });
      expect(response.body.lines).toHaveLength(2);
      expect(response.body.position).toBe(await api.head());
      expect(response.body.position).toBeGreaterThan(before);
    });

    it('answers 200 and appends nothing for the same snapshot again, however its lines and times are written', async () => {
      const body = orderBody({ placedAt: '2025-03-01T16:00:00+08:00' });
      expect((await put('o-same', body)).status).toBe(201);
      const head = await api.head();
      const again = await put('o-same', { ...body, placedAt: '2025-03-01T08:00:00.000Z', lines: [...(body.lines as unknown[])].reverse() });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ orderId: 'o-same', revision: 0, position: head });
      expect(await api.head()).toBe(head);
    });

    it('answers 409 for a different snapshot and keeps the first', async () => {
      expect((await put('o-diff', orderBody())).status).toBe(201);
      const head = await api.head();
      const response = await put('o-diff', orderBody({ buyerTrustScore: 900 }));
      expect(response.status).toBe(409);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body).toMatchObject({ status: 409, reason: 'order_snapshot_differs' });
      expect(await api.head()).toBe(head);
      const view = await api.call('get', '/v1/orders/o-diff', tokens.integration);
      expect(view.body.buyerTrustScore).toBe(100);
    });

    it('answers 422 when paidAmount is not the lines plus shipping', async () => {
      const response = await put('o-mismatch', orderBody({ paidAmount: 31_000 }));
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ status: 422, rule: 'paid_amount_mismatch' });
    });

    const invalid: Array<[string, Record<string, unknown>, string]> = [
      ['a lower-case currency', { currency: 'cny' }, 'currency'],
      ['a currency that is not ISO 4217', { currency: 'ABC' }, 'currency'],
      ['an amount sent as a string', { shippingFee: '1000' }, 'shippingFee'],
      ['a fractional amount', { paidAmount: 30_999.5 }, 'paidAmount'],
      ['a negative amount', { shippingFee: -1 }, 'shippingFee'],
      ['a trust score above 1000', { buyerTrustScore: 1001 }, 'buyerTrustScore'],
      ['a time without a zone', { placedAt: '2025-03-01T08:00:00' }, 'placedAt'],
      ['a date without a time', { placedAt: '2025-03-01' }, 'placedAt'],
      ['an impossible date', { placedAt: '2025-02-30T08:00:00Z' }, 'placedAt'],
      ['an id with a slash', { buyerId: 'u/1' }, 'buyerId'],
      ['an id of 65 characters', { merchantId: 'm'.repeat(65) }, 'merchantId'],
      ['no lines', { lines: [] }, 'lines'],
      ['a missing field', { businessLine: undefined }, 'businessLine'],
      ['an unknown field', { discount: 5 }, 'discount'],
      ['orderId in the body', { orderId: 'o-x' }, 'orderId'],
      ['a null', { returnShippingInsured: null }, 'returnShippingInsured'],
    ];
    it.each(invalid)('answers 400 naming the field for %s', async (_name, change, field) => {
      const head = await api.head();
      const response = await put('o-invalid', orderBody(change));
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(await api.head()).toBe(head);
    });

    it('answers 400 for lines that repeat a lineId, a quantity of 0 and a long title', async () => {
      const [l1] = orderBody().lines as Array<Record<string, unknown>>;
      const repeated = await put('o-invalid', orderBody({ lines: [l1, { ...l1 }] }));
      expect(repeated.status).toBe(400);
      expect(repeated.body.errors).toEqual([expect.objectContaining({ field: 'lines' })]);
      const zero = await put('o-invalid', orderBody({ lines: [{ ...l1, quantity: 0 }] }));
      expect(zero.body.errors).toEqual([expect.objectContaining({ field: 'lines.0.quantity' })]);
      const long = await put('o-invalid', orderBody({ lines: [{ ...l1, title: 'x'.repeat(2001) }] }));
      expect(long.body.errors).toEqual([expect.objectContaining({ field: 'lines.0.title' })]);
    });

    it('answers 400 for an order id that cannot be one', async () => {
      const response = await put('o.1', orderBody());
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'orderId' })]);
    });

    it('answers 403 to other roles before looking at the body, and 401 without a token', async () => {
      expect((await put('o-x', { nonsense: true }, tokens.buyer)).status).toBe(403);
      expect((await put('o-x', orderBody(), tokens.admin)).status).toBe(403);
      expect((await api.call('put', '/v1/orders/o-x', undefined, orderBody())).status).toBe(401);
    });

    it('replays the first answer for a repeated Idempotency-Key and records the key on the event', async () => {
      const headers = { 'Idempotency-Key': 'register-o-key-1' };
      const body = orderBody();
      const first = await put('o-key', body, tokens.integration, headers);
      const second = await put('o-key', body, tokens.integration, headers);
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.body).toEqual(first.body);
      const [registered] = await api.store.readStream('order-o-key');
      expect(registered.metadata).toMatchObject({ actor: { role: 'integration', id: 'order-system' }, channel: 'api', idempotencyKey: 'register-o-key-1' });
    });
  });

  describe('shipped and delivered', () => {
    beforeAll(async () => {
      await put('o-ship', orderBody());
    });

    it('refuses delivery before shipment with 409 and what the order accepts now', async () => {
      const head = await api.head();
      const response = await api.call('post', '/v1/orders/o-ship/delivered', tokens.integration, { deliveredAt: daysAgo(1) });
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ status: 409, allowedActions: ['register', 'shipped'] });
      expect(await api.head()).toBe(head);
    });

    it('records the shipment, then the delivery, each answered with the order and position', async () => {
      const shippedAt = daysAgo(3);
      const shipped = await api.call('post', '/v1/orders/o-ship/shipped', tokens.integration, { carrier: 'sf', trackingNumber: 'SF100', shippedAt });
      expect(shipped.status).toBe(200);
      expect(shipped.body).toMatchObject({ status: 'shipped', shippedAt, revision: 1, position: await api.head() });

      const head = await api.head();
      const again = await api.call('post', '/v1/orders/o-ship/shipped', tokens.integration, { carrier: 'sf', trackingNumber: 'SF100', shippedAt });
      expect(again.status).toBe(200);
      expect(await api.head()).toBe(head);
      const other = await api.call('post', '/v1/orders/o-ship/shipped', tokens.integration, { carrier: 'sf', trackingNumber: 'SF999', shippedAt });
      expect(other.status).toBe(409);
      expect(other.body.reason).toBe('shipment_differs');

      const early = await api.call('post', '/v1/orders/o-ship/delivered', tokens.integration, { deliveredAt: daysAgo(4) });
      expect(early.status).toBe(422);
      expect(early.body.rule).toBe('delivered_before_shipped');

      const deliveredAt = daysAgo(1);
      const delivered = await api.call('post', '/v1/orders/o-ship/delivered', tokens.integration, { deliveredAt });
      expect(delivered.status).toBe(200);
      expect(delivered.body).toMatchObject({ status: 'delivered', deliveredAt, revision: 2 });
    });

    it('validates the bodies and answers 404 for an unknown order', async () => {
      const missing = await api.call('post', '/v1/orders/o-ship/shipped', tokens.integration, { carrier: 'sf' });
      expect(missing.status).toBe(400);
      expect(missing.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['trackingNumber', 'shippedAt']));
      const noBody = await api.call('post', '/v1/orders/o-ship/delivered', tokens.integration);
      expect(noBody.status).toBe(400);
      const unknown = await api.call('post', '/v1/orders/o-none/shipped', tokens.integration, { carrier: 'sf', trackingNumber: 'X1', shippedAt: daysAgo(1) });
      expect(unknown.status).toBe(404);
      expect((await api.call('post', '/v1/orders/o-ship/delivered', tokens.merchant, { deliveredAt: daysAgo(1) })).status).toBe(403);
    });
  });

  describe('GET /v1/orders/:orderId', () => {
    beforeAll(async () => {
      await put('o-read', orderBody());
    });

    it.each(['buyer', 'merchant', 'agent', 'arbitrator', 'admin', 'integration'])('shows the order and its ledger to %s', async (role) => {
      const response = await api.call('get', '/v1/orders/o-read', tokens[role]);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        orderId: 'o-read',
        status: 'placed',
        revision: 0,
        refundLedger: { paid: 30_999, reserved: 0, refunded: 0, refundable: 30_999 },
      });
      expect(response.body.position).toBeUndefined();
    });

    it.each(['otherBuyer', 'otherMerchant', 'foreignAgent'])('answers 404 to %s, as for an order that does not exist', async (who) => {
      const response = await api.call('get', '/v1/orders/o-read', tokens[who]);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      const unknown = await api.call('get', '/v1/orders/o-unknown', tokens.admin);
      expect(unknown.status).toBe(404);
      expect(unknown.body.detail).toBe(response.body.detail);
    });

    it('shows a reservation in the ledger once a refund falls due', async () => {
      const created = await api.call('post', '/v1/cases', tokens.buyer, { orderId: 'o-read', kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L2', quantity: 1 }] });
      expect(created.status).toBe(201);
      const order = await api.call('get', '/v1/orders/o-read', tokens.buyer);
      expect(order.body.refundLedger).toEqual({ paid: 30_999, reserved: 9_999, refunded: 0, refundable: 21_000 });
    });
  });

  describe('GET /v1/orders/:orderId/eligibility', () => {
    beforeAll(async () => {
      await put('o-elig', orderBody());
      await api.call('post', '/v1/orders/o-elig/shipped', tokens.integration, { carrier: 'sf', trackingNumber: 'SF200', shippedAt: daysAgo(3) });
      await api.call('post', '/v1/orders/o-elig/delivered', tokens.integration, { deliveredAt: daysAgo(1) });
    });

    it('lists what each line may ask for now, with the policy in force', async () => {
      const response = await api.call('get', '/v1/orders/o-elig/eligibility', tokens.buyer);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ orderId: 'o-elig', currency: 'CNY' });
      const [l1, l2] = response.body.lines;
      expect(l1).toMatchObject({ lineId: 'L1', refundable: 20_000 });
      expect(l1.kinds).toEqual(expect.arrayContaining(['return_and_refund', 'exchange', 'repair', 'reship', 'partial_refund', 'compensation']));
      expect(typeof l1.noReasonUntil).toBe('string');
      expect(l2).toMatchObject({ lineId: 'L2', refundable: 9_999 });
      expect(l2.noReasonUntil).toBeUndefined();
      expect(response.body.policy).toMatchObject({ merchantResponse: 'P2D', maxAmendments: 3, compensationCap: 10_000 });
    });

    it('answers agents and admins, 404 to another buyer, 403 to merchants', async () => {
      expect((await api.call('get', '/v1/orders/o-elig/eligibility', tokens.agent)).status).toBe(200);
      expect((await api.call('get', '/v1/orders/o-elig/eligibility', tokens.admin)).status).toBe(200);
      expect((await api.call('get', '/v1/orders/o-elig/eligibility', tokens.otherBuyer)).status).toBe(404);
      expect((await api.call('get', '/v1/orders/o-elig/eligibility', tokens.merchant)).status).toBe(403);
      expect((await api.call('get', '/v1/orders/o-elig/eligibility', tokens.integration)).status).toBe(403);
    });
  });

  it('counts command outcomes for /metrics', async () => {
    const metrics = await api.call('get', '/metrics');
    expect(metrics.text).toMatch(/command_outcomes_total\{command="register",outcome="accepted"\} \d+/);
    expect(metrics.text).toMatch(/command_outcomes_total\{command="register",outcome="unchanged"\} \d+/);
    expect(metrics.text).toMatch(/command_outcomes_total\{command="register",outcome="refused"\} \d+/);
    expect(metrics.text).toMatch(/command_outcomes_total\{command="mark-delivered",outcome="refused"\} \d+/);
    // Every acknowledged append is timed.
    expect(metrics.text).toMatch(/event_store_append_duration_seconds_count\{outcome="ok"\} [1-9]\d*/);
    // The repair pass is the worker's (test/worker checks its series in the whole service).
  });

  it('documents the order routes in the OpenAPI document', async () => {
    const document = (await api.call('get', '/docs-json')).body;
    const put = document.paths['/v1/orders/{orderId}'].put;
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409', '422']));
    expect(put.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/RegisterOrderDto');
    expect(document.paths['/v1/orders/{orderId}/eligibility'].get.responses['404'].content['application/problem+json']).toBeDefined();
    expect(document.components.schemas.RegisterOrderDto.required).toEqual(expect.arrayContaining(['buyerId', 'lines', 'placedAt']));
  });
});
