import type request from 'supertest';
import { daysAgo, orderBody, PROBLEM, startCommandApp, token, type CommandApp } from './support/app';

jest.setTimeout(30_000);

const HOUR = 3_600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const URL = 'https://img.example.com/parcel.jpg';

type OrderStatus = 'placed' | 'shipped' | 'delivered';

describe('case routes', () => {
  let api: CommandApp;
  const t: Record<string, string> = {};
  let orderCount = 0;

  beforeAll(async () => {
    api = await startCommandApp();
    t.integration = await token({ sub: 'order-system', role: 'integration' });
    t.buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    t.otherBuyer = await token({ sub: 'u-other', role: 'buyer' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.otherMerchant = await token({ sub: 'm2-staff', role: 'merchant', merchantId: 'm2' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
    t.agent2 = await token({ sub: 'agent-2', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
    t.lowAgent = await token({ sub: 'agent-low', role: 'agent', businessLine: 'apparel', authorityLimit: 100 });
    t.foreignAgent = await token({ sub: 'agent-x', role: 'agent', businessLine: 'groceries', authorityLimit: 50_000 });
    t.arbitrator = await token({ sub: 'arb-1', role: 'arbitrator', businessLine: 'apparel' });
    t.admin = await token({ sub: 'admin-1', role: 'admin' });
  });

  afterAll(async () => {
    await api?.close();
  });

  /** A fresh order of u-buyer at merchant m1, line apparel, taken as far as `status`. */
  async function order(status: OrderStatus, overrides: Record<string, unknown> = {}): Promise<string> {
    orderCount += 1;
    const orderId = `o-${orderCount}`;
    expect((await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody(overrides))).status).toBe(201);
    if (status !== 'placed') {
      const shipped = await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `SF${orderCount}`, shippedAt: daysAgo(3) });
      expect(shipped.status).toBe(200);
    }
    if (status === 'delivered') {
      expect((await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) })).status).toBe(200);
    }
    return orderId;
  }

  const requestCase = (body: Record<string, unknown>, bearer = t.buyer, headers?: Record<string, string>) =>
    api.call('post', '/v1/cases', bearer, body, headers);

  /** Opens a case and returns its id. */
  async function openCase(body: Record<string, unknown>, bearer = t.buyer): Promise<string> {
    const response = await requestCase(body, bearer);
    expect(response.status).toBe(201);
    return response.body.caseId as string;
  }

  const act = (caseId: string, action: string, bearer: string, body?: unknown, headers?: Record<string, string>) =>
    api.call('post', `/v1/cases/${caseId}/${action}`, bearer, body, headers);

  /** Runs an action that must succeed and returns the case the caller now sees. */
  async function step(caseId: string, action: string, bearer: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await act(caseId, action, bearer, body);
    if (response.status !== 200) throw new Error(`${action}: ${response.status} ${JSON.stringify(response.body)}`);
    expect(response.headers.etag).toBe(`"${response.body.revision}"`);
    return response.body;
  }

  /** The refusal appends nothing: the store's head position is the same after it. */
  async function expectRefused(call: () => Promise<request.Response>, status: number, members: Record<string, unknown> = {}): Promise<request.Response> {
    const head = await api.head();
    const response = await call();
    expect({ status: response.status, body: response.body }).toMatchObject({ status, body: { status, ...members } });
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(await api.head()).toBe(head);
    return response;
  }

  const line = (lineId: string, quantity = 1) => ({ lineId, quantity });

  describe('POST /v1/cases', () => {
    it('approves refund_only before shipment at once: 201, refunding, ETag, Location and position', async () => {
      const orderId = await order('placed');
      const response = await requestCase(
        { orderId, kind: 'refund_only', reason: 'changed_mind', lines: [line('L2')], description: 'Ordered twice' },
        t.buyer,
        { 'X-Correlation-Id': 'corr-refund-1' },
      );
      expect(response.status).toBe(201);
      const kase = response.body;
      expect(kase.caseId).toMatch(UUID);
      expect(kase).toMatchObject({
        orderId,
        buyerId: 'u-buyer',
        merchantId: 'm1',
        businessLine: 'apparel',
        kind: 'refund_only',
        reason: 'changed_mind',
        responsible: 'buyer',
        department: 'none',
        status: 'refunding',
        statusLabel: 'Refund in progress (退款中)',
        requestedAmount: 9_999,
        refunded: 0,
        currency: 'CNY',
        lines: [{ lineId: 'L2', quantity: 1, productId: 'p-cap', category: 'hats', supplierId: 's-2' }],
        refunds: [{ amount: 9_999, purpose: 'refund', express: false, status: 'pending' }],
        priority: 0,
        allowedActions: [],
      });
      expect(response.headers.etag).toBe(`"${kase.revision}"`);
      expect(response.headers.location).toBe(`/v1/cases/${kase.caseId}`);
      expect(kase.position).toBe(await api.head());

      const events = await api.call('get', `/v1/cases/${kase.caseId}/events`, t.agent);
      expect(events.body.items.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['ReturnRequested', 'AutoReviewApproved', 'RefundIssued']));
      expect(events.body.items[0].metadata).toMatchObject({ actor: { role: 'buyer', id: 'u-buyer' }, channel: 'app', correlationId: 'corr-refund-1' });
    });

    it('lets an agent ask on the buyer\'s behalf, through the agent channel unless another is named', async () => {
      const orderId = await order('shipped');
      const onBehalf = await requestCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1', 2)] }, t.agent);
      expect(onBehalf.status).toBe(201);
      expect(onBehalf.body).toMatchObject({ buyerId: 'u-buyer', status: 'pending_merchant', requestedAmount: 20_000, statusLabel: 'pending_merchant' });
      const [requested] = await api.store.readStream(`aftersales-${onBehalf.body.caseId}`);
      expect(requested.metadata).toMatchObject({ actor: { role: 'agent', id: 'agent-1' }, channel: 'agent' });

      const byPhone = await requestCase({ orderId, kind: 'compensation', reason: 'late_delivery', lines: [line('L2')], requestedAmount: 500, channel: 'phone', pickup: false });
      expect(byPhone.status).toBe(201);
      const [phoned] = await api.store.readStream(`aftersales-${byPhone.body.caseId}`);
      expect(phoned.metadata).toMatchObject({ actor: { role: 'buyer', id: 'u-buyer' }, channel: 'phone' });
      expect(phoned.data).toMatchObject({ pickup: false });
    });

    it('answers 404 for another buyer\'s order and for an agent of another business line', async () => {
      const orderId = await order('shipped');
      const body = { orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')] };
      await expectRefused(() => requestCase(body, t.otherBuyer), 404);
      await expectRefused(() => requestCase(body, t.foreignAgent), 404);
      await expectRefused(() => requestCase({ ...body, orderId: 'o-unknown' }), 404);
    });

    it('answers 403 to roles that never ask, before reading the body', async () => {
      await expectRefused(() => requestCase({ nonsense: true }, t.merchant), 403);
      await expectRefused(() => requestCase({ nonsense: true }, t.admin), 403);
      expect((await api.call('post', '/v1/cases', undefined, {})).status).toBe(401);
    });

    it('answers 422 with the rule for amounts, held lines and kinds not allowed now', async () => {
      const orderId = await order('shipped');
      await expectRefused(
        () => requestCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')], requestedAmount: 10_001 }),
        422,
        { rule: 'amount_above_refundable' },
      );
      await expectRefused(() => requestCase({ orderId, kind: 'exchange', reason: 'wrong_item', lines: [line('L1')] }), 422, { rule: 'kind_not_allowed_now' });
      await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')] });
      await expectRefused(() => requestCase({ orderId, kind: 'return_and_refund', reason: 'quality_defect', lines: [line('L1')] }), 422, {
        rule: 'line_held_by_active_case',
      });
      await expectRefused(() => requestCase({ orderId, kind: 'partial_refund', reason: 'quality_defect', lines: [line('L2')] }), 422, {
        rule: 'kind_not_allowed_now',
      });
      await expectRefused(() => requestCase({ orderId, kind: 'compensation', reason: 'late_delivery', lines: [line('L2')] }), 422, {
        rule: 'amount_required_for_kind',
      });
    });

    const invalid: Array<[string, Record<string, unknown>, string]> = [
      ['an amount for exchange', { kind: 'exchange', requestedAmount: 100 }, 'requestedAmount'],
      ['an amount for reship', { kind: 'reship', requestedAmount: 100 }, 'requestedAmount'],
      ['an amount of 0', { requestedAmount: 0 }, 'requestedAmount'],
      ['an unknown kind', { kind: 'refund_everything' }, 'kind'],
      ['an unknown reason', { reason: 'bored' }, 'reason'],
      ['an unknown channel', { channel: 'fax' }, 'channel'],
      ['no lines', { lines: [] }, 'lines'],
      ['a line twice', { lines: [line('L1'), line('L1')] }, 'lines'],
      ['a quantity of 0', { lines: [line('L1', 0)] }, 'lines.0.quantity'],
      ['a fractional quantity', { lines: [line('L1', 1.5)] }, 'lines.0.quantity'],
      ['ten evidence URLs', { evidence: Array.from({ length: 10 }, () => URL) }, 'evidence'],
      ['evidence that is not http(s)', { evidence: ['ftp://files.example.com/a.jpg'] }, 'evidence'],
      ['a description over 2000 characters', { description: 'x'.repeat(2001) }, 'description'],
      ['pickup as a string', { pickup: 'yes' }, 'pickup'],
      ['a caseId of its own', { caseId: 'mine' }, 'caseId'],
      ['a null amount', { requestedAmount: null }, 'requestedAmount'],
    ];
    it.each(invalid)('answers 400 naming the field for %s', async (_name, change, field) => {
      const body = { orderId: 'o-any', kind: 'refund_only', reason: 'not_received', lines: [line('L1')], ...change };
      const response = await expectRefused(() => requestCase(body), 400);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('answers a repeated Idempotency-Key with the first case and opens only one', async () => {
      const orderId = await order('shipped');
      const body = { orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L2')] };
      const headers = { 'Idempotency-Key': `open-${orderId}` };
      const first = await requestCase(body, t.buyer, headers);
      const head = await api.head();
      const second = await requestCase(body, t.buyer, headers);
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(second.headers.etag).toBe(first.headers.etag);
      expect(await api.head()).toBe(head);
      const [requested] = await api.store.readStream(`aftersales-${first.body.caseId}`);
      expect(requested.metadata.idempotencyKey).toBe(`open-${orderId}`);
    });
  });

  describe('each kind along its happy path', () => {
    it('return_and_refund: approve, ship-return, confirm-receipt, refunding', async () => {
      const orderId = await order('shipped');
      const caseId = await openCase({ orderId, kind: 'return_and_refund', reason: 'quality_defect', lines: [line('L1')], evidence: [URL] });
      const asMerchant = (await api.call('get', `/v1/cases/${caseId}`, t.merchant)).body;
      expect(asMerchant).toMatchObject({ status: 'pending_merchant', statusLabel: 'pending_merchant', requestedAmount: 10_000 });
      expect(asMerchant.allowedActions).toEqual(['approve', 'reject', 'counter-offer']);
      expect(Object.keys(asMerchant.deadlines)).toEqual(['merchantResponse']);

      expect(await step(caseId, 'approve', t.merchant, { note: 'Sorry about that' })).toMatchObject({ status: 'awaiting_return', agreedAmount: 10_000 });
      const shipped = await step(caseId, 'ship-return', t.buyer, { carrier: 'sf', trackingNumber: 'RET-1' });
      expect(shipped).toMatchObject({ status: 'return_in_transit', statusLabel: 'Return on its way (退货中)', returnParcel: { carrier: 'sf', trackingNumber: 'RET-1' } });
      const received = await step(caseId, 'confirm-receipt', t.merchant, { inspection: 'passed', disposition: 'restock' });
      expect(received).toMatchObject({ status: 'refunding', refunds: [{ amount: 10_000, purpose: 'refund', status: 'pending' }] });
      const orderView = await api.call('get', `/v1/orders/${orderId}`, t.buyer);
      expect(orderView.body.refundLedger).toMatchObject({ reserved: 10_000, refundable: 20_999 });
    });

    it('exchange: approve, ship-return, confirm-receipt, ship-replacement, confirm-delivery (no body), rate', async () => {
      const orderId = await order('delivered');
      const caseId = await openCase({ orderId, kind: 'exchange', reason: 'wrong_item', lines: [line('L1')] });
      expect(await step(caseId, 'approve', t.merchant)).toMatchObject({ status: 'awaiting_return', requestedAmount: 0 });
      await step(caseId, 'ship-return', t.buyer, { carrier: 'sf', trackingNumber: 'RET-2' });
      expect(await step(caseId, 'confirm-receipt', t.merchant, { inspection: 'passed' })).toMatchObject({ status: 'awaiting_replacement' });
      expect(await step(caseId, 'ship-replacement', t.merchant, { carrier: 'sf', trackingNumber: 'NEW-2' })).toMatchObject({
        status: 'replacement_in_transit',
        replacementParcel: { carrier: 'sf', trackingNumber: 'NEW-2' },
      });
      const done = await step(caseId, 'confirm-delivery', t.buyer);
      expect(done).toMatchObject({ status: 'completed', statusLabel: 'Done (售后完成)', allowedActions: ['rate'] });
      expect(await step(caseId, 'rate', t.buyer, { score: 5, nps: 9, comment: 'Quick' })).toMatchObject({ allowedActions: [] });
      await expectRefused(() => act(caseId, 'rate', t.buyer, { score: 4 }), 409, { allowedActions: [] });
    });

    it('repair: approve, ship-return, confirm-receipt, declare-unrepairable refunds the line in full', async () => {
      const orderId = await order('delivered');
      const caseId = await openCase({ orderId, kind: 'repair', reason: 'quality_defect', lines: [line('L2')] });
      await step(caseId, 'approve', t.merchant);
      await step(caseId, 'ship-return', t.buyer, { carrier: 'sf', trackingNumber: 'RET-3' });
      expect(await step(caseId, 'confirm-receipt', t.merchant, { inspection: 'passed' })).toMatchObject({ status: 'in_repair' });
      const unrepairable = await step(caseId, 'declare-unrepairable', t.merchant, { note: 'Board burnt out' });
      expect(unrepairable).toMatchObject({ status: 'refunding', refunds: [{ amount: 9_999, purpose: 'refund' }] });
    });

    it('reship: approve, ship-replacement, confirm-delivery', async () => {
      const orderId = await order('delivered');
      const caseId = await openCase({ orderId, kind: 'reship', reason: 'missing_item', lines: [line('L2')] });
      expect(await step(caseId, 'approve', t.merchant, {})).toMatchObject({ status: 'awaiting_replacement' });
      await step(caseId, 'ship-replacement', t.merchant, { carrier: 'jd', trackingNumber: 'JD-4' });
      expect(await step(caseId, 'confirm-delivery', t.buyer, {})).toMatchObject({ status: 'completed' });
    });

    it('partial_refund: counter-offer (422 at or above the request), accept-offer, refunding', async () => {
      const orderId = await order('delivered');
      const caseId = await openCase({ orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [line('L1', 2)], requestedAmount: 5_000 });
      await expectRefused(() => act(caseId, 'counter-offer', t.merchant, { amount: 5_000 }), 422, { rule: 'offer_not_below_requested' });
      const offered = await step(caseId, 'counter-offer', t.merchant, { amount: 3_000, note: 'Small scratch only' });
      expect(offered).toMatchObject({ status: 'negotiating' });
      const asBuyer = (await api.call('get', `/v1/cases/${caseId}`, t.buyer)).body;
      expect(asBuyer).toMatchObject({ statusLabel: 'Seller made an offer (协商中)', allowedActions: ['accept-offer', 'decline-offer', 'withdraw'] });
      expect(await step(caseId, 'accept-offer', t.buyer)).toMatchObject({ status: 'refunding', agreedAmount: 3_000, refunds: [{ amount: 3_000 }] });
    });

    it('compensation: approve pays out; an agent compensates on an open case within authority and cap', async () => {
      const orderId = await order('delivered');
      const caseId = await openCase({ orderId, kind: 'compensation', reason: 'late_delivery', lines: [line('L1')], requestedAmount: 2_000 });
      expect(await step(caseId, 'approve', t.merchant)).toMatchObject({ status: 'refunding', refunds: [{ amount: 2_000, purpose: 'compensation' }] });

      const complaint = await openCase({ orderId, kind: 'compensation', reason: 'service_complaint', lines: [line('L2')], requestedAmount: 1_000 });
      await expectRefused(() => act(complaint, 'compensate', t.lowAgent, { amount: 500, form: 'cash' }), 403, { reason: 'above_authority_limit' });
      await step(complaint, 'claim', t.agent);
      const paid = await step(complaint, 'compensate', t.agent, { amount: 500, form: 'coupon', note: 'Goodwill' });
      expect(paid).toMatchObject({ status: 'pending_merchant', refunds: [{ amount: 500, purpose: 'compensation', status: 'pending' }] });
      await expectRefused(() => act(complaint, 'compensate', t.agent, { amount: 9_600, form: 'cash' }), 422, { rule: 'compensation_cap_exceeded' });
      const events = (await api.call('get', `/v1/cases/${complaint}/events`, t.agent)).body.items;
      expect(events.find((e: { type: string }) => e.type === 'CompensationGranted').metadata).toMatchObject({ actor: { role: 'agent', id: 'agent-1' }, channel: 'agent' });
    });

    it('reject, amend, reject, escalate, rule for the buyer', async () => {
      const orderId = await order('shipped');
      const caseId = await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1', 2)] });
      expect(await step(caseId, 'reject', t.merchant, { reason: 'Tracking shows delivered' })).toMatchObject({ status: 'rejected' });
      expect(await step(caseId, 'amend', t.buyer, { description: 'Nothing arrived', evidence: [URL], requestedAmount: 15_000 })).toMatchObject({
        status: 'pending_merchant',
        requestedAmount: 15_000,
      });
      await step(caseId, 'reject', t.merchant, { reason: 'Still shows delivered' });
      expect(await step(caseId, 'escalate', t.buyer, { reason: 'I never got it' })).toMatchObject({ status: 'escalated' });
      await expectRefused(() => act(caseId, 'rule', t.arbitrator, { ruling: 'buyer', refundAmount: 20_001, note: 'Lost' }), 422, { rule: 'amount_above_refundable' });
      const ruled = await step(caseId, 'rule', t.arbitrator, { ruling: 'buyer', refundAmount: 15_000, note: 'Carrier lost it' });
      expect(ruled).toMatchObject({ status: 'refunding', statusLabel: 'refunding', refunds: [{ amount: 15_000 }] });
    });

    it('withdraw takes {} or no body at all; unknown fields are refused', async () => {
      const orderId = await order('shipped');
      const first = await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')] });
      const second = await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L2')] });
      await expectRefused(() => act(first, 'withdraw', t.buyer, { because: 'changed my mind' }), 400);
      await expectRefused(() => act(first, 'withdraw', t.buyer, ['x']), 400);
      expect(await step(first, 'withdraw', t.buyer, {})).toMatchObject({ status: 'closed', closedReason: 'withdrawn', allowedActions: [] });
      expect(await step(second, 'withdraw', t.buyer)).toMatchObject({ status: 'closed', closedReason: 'withdrawn' });
    });

    it('urge once the minimum wait has passed, raising the priority', async () => {
      const orderId = await order('shipped');
      const caseId = await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')] });
      await expectRefused(() => act(caseId, 'urge', t.buyer), 409, { allowedActions: ['withdraw'] });
      api.clock.advance(25 * HOUR);
      try {
        expect(await step(caseId, 'urge', t.buyer)).toMatchObject({ priority: 1, allowedActions: ['withdraw'] });
      } finally {
        api.clock.reset();
      }
    });
  });

  describe('agent work', () => {
    it('claim, transfer, release, assign and notes, with the holder\'s rules', async () => {
      const orderId = await order('shipped');
      const caseId = await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')] });
      expect(await step(caseId, 'claim', t.agent)).toMatchObject({ assignee: 'agent-1' });
      await expectRefused(() => act(caseId, 'note', t.agent2, { text: 'Mine now' }), 403, { reason: 'held_by_another_agent' });
      await expectRefused(() => act(caseId, 'claim', t.agent), 409);
      expect(await step(caseId, 'transfer', t.admin, { agentId: 'agent-2' })).toMatchObject({ assignee: 'agent-2' });
      expect(await step(caseId, 'note', t.agent2, { text: 'Called the carrier' })).toMatchObject({ assignee: 'agent-2' });
      const released = await step(caseId, 'release', t.agent2);
      expect(released.assignee).toBeUndefined();
      expect(await step(caseId, 'assign', t.admin, { agentId: 'agent-1' })).toMatchObject({ assignee: 'agent-1' });
      await step(caseId, 'note', t.arbitrator, { text: 'Watching this one' });
      await expectRefused(() => act(caseId, 'note', t.arbitrator, { text: '' }), 400);
      await expectRefused(() => act(caseId, 'assign', t.admin, { agentId: 'agent 1' }), 400);

      const types = (await api.call('get', `/v1/cases/${caseId}/events`, t.admin)).body.items.map((e: { type: string }) => e.type);
      expect(types).toEqual(expect.arrayContaining(['CaseClaimed', 'CaseTransferred', 'CaseReleased', 'CaseAssigned', 'CaseNoteAdded']));
    });

    it('answers 403 to an agent approving above its authority', async () => {
      const orderId = await order('shipped');
      const caseId = await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')] });
      await expectRefused(() => act(caseId, 'approve', t.lowAgent), 403, { reason: 'above_authority_limit' });
      // Outside the agent pool an agent approves only a case it holds.
      await expectRefused(() => act(caseId, 'approve', t.agent), 409, { allowedActions: ['claim'] });
      await step(caseId, 'claim', t.agent);
      expect(await step(caseId, 'approve', t.agent)).toMatchObject({ status: 'refunding' });
    });
  });

  describe('refusals, in API.md\'s order, appending nothing', () => {
    let orderId: string;
    let caseId: string;
    let revision: number;

    beforeAll(async () => {
      orderId = await order('delivered');
      caseId = await openCase({ orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [line('L1')], requestedAmount: 4_000 });
      revision = (await api.call('get', `/v1/cases/${caseId}`, t.buyer)).body.revision;
    });

    it('403 for a role that never takes the action, even with a bad body', async () => {
      await expectRefused(() => act(caseId, 'approve', t.buyer, { note: 5 }), 403);
      await expectRefused(() => act(caseId, 'withdraw', t.merchant), 403);
      await expectRefused(() => act(caseId, 'rule', t.agent, {}), 403);
      await expectRefused(() => act(caseId, 'compensate', t.integration, { amount: 1, form: 'coupon' }), 403);
      await expectRefused(() => act('not a case', 'approve', t.buyer), 403);
    });

    it('400 for a bad body, path or If-Match before looking for the case', async () => {
      const reject = await expectRefused(() => act('c-unknown', 'reject', t.merchant, {}), 400);
      expect(reject.body.errors).toEqual([expect.objectContaining({ field: 'reason' })]);
      const path = await expectRefused(() => act('bad.id', 'approve', t.merchant), 400);
      expect(path.body.errors).toEqual([expect.objectContaining({ field: 'caseId' })]);
      for (const header of ['abc', 'W/"1"', '"-1"', '*', '"1", "2"']) {
        const response = await expectRefused(() => act(caseId, 'approve', t.merchant, {}, { 'If-Match': header }), 400);
        expect(response.body.errors).toEqual([expect.objectContaining({ field: 'If-Match' })]);
      }
      const failed = await expectRefused(() => act(caseId, 'confirm-receipt', t.merchant, { inspection: 'failed' }), 400);
      expect(failed.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'evidence' })]));
      const rated = await expectRefused(() => act(caseId, 'rate', t.buyer, { score: 6, nps: 11 }), 400);
      expect(rated.body.errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['score', 'nps']));
      await expectRefused(() => act(caseId, 'counter-offer', t.merchant, { amount: '100' }), 400);
    });

    it('404 for a case the caller may not see, as for one that does not exist', async () => {
      const foreign = await expectRefused(() => act(caseId, 'withdraw', t.otherBuyer), 404);
      const unknown = await expectRefused(() => act('c-unknown', 'withdraw', t.buyer), 404);
      expect(foreign.body.detail).toBe(unknown.body.detail);
      await expectRefused(() => act(caseId, 'approve', t.otherMerchant), 404);
      await expectRefused(() => act(caseId, 'note', t.foreignAgent, { text: 'hi' }), 404);
      await expectRefused(() => act('c-unknown', 'withdraw', t.buyer, {}, { 'If-Match': '"0"' }), 404);
      expect((await api.call('get', `/v1/cases/${caseId}`, t.otherBuyer)).status).toBe(404);
      expect((await api.call('get', `/v1/cases/${caseId}/events`, t.foreignAgent)).status).toBe(404);
    });

    it('412 when If-Match names another revision; the current one comes back in the ETag', async () => {
      const stale = await expectRefused(() => act(caseId, 'accept-offer', t.buyer, undefined, { 'If-Match': `"${revision - 1}"` }), 412, { revision });
      expect(stale.headers.etag).toBe(`"${revision}"`);
      await expectRefused(() => act(caseId, 'approve', t.lowAgent, {}, { 'If-Match': `"${revision - 1}"` }), 403);
    });

    it('409 with the caller\'s allowedActions when the action is not allowed now', async () => {
      await expectRefused(() => act(caseId, 'accept-offer', t.buyer), 409, { allowedActions: ['withdraw'] });
      await expectRefused(() => act(caseId, 'ship-replacement', t.merchant, { carrier: 'sf', trackingNumber: 'X' }), 409, {
        allowedActions: ['approve', 'reject', 'counter-offer'],
      });
      await expectRefused(() => act(caseId, 'claim', t.admin), 403);
      await expectRefused(() => act(caseId, 'release', t.admin), 409, { allowedActions: ['assign', 'note'] });
    });

    it('422 with the rule for values the case does not allow', async () => {
      await expectRefused(() => act(caseId, 'counter-offer', t.merchant, { amount: 4_000 }), 422, { rule: 'offer_not_below_requested' });
      const held = await openCase({ orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [line('L2')], requestedAmount: 1_000 });
      await step(held, 'claim', t.agent);
      await expectRefused(() => act(held, 'compensate', t.agent, { amount: 10_001, form: 'balance' }), 422, { rule: 'compensation_cap_exceeded' });
    });

    it('acts with a matching If-Match, quoted or bare, and the revision moves on', async () => {
      const offered = await act(caseId, 'counter-offer', t.merchant, { amount: 3_500 }, { 'If-Match': `"${revision}"` });
      expect(offered.status).toBe(200);
      expect(offered.body.revision).toBeGreaterThan(revision);
      expect(offered.headers.etag).toBe(`"${offered.body.revision}"`);
      const declined = await act(caseId, 'decline-offer', t.buyer, {}, { 'If-Match': String(offered.body.revision) });
      expect(declined.status).toBe(200);
      expect(declined.body).toMatchObject({ status: 'rejected' });
    });
  });

  describe('reads', () => {
    it('GET /v1/cases/:caseId answers each role in its words, with the ETag', async () => {
      const orderId = await order('shipped');
      const caseId = await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')] });
      for (const [who, label] of [
        ['buyer', 'Waiting for the seller (待商家处理)'],
        ['merchant', 'pending_merchant'],
        ['agent', 'pending_merchant'],
        ['arbitrator', 'pending_merchant'],
        ['admin', 'pending_merchant'],
      ]) {
        const response = await api.call('get', `/v1/cases/${caseId}`, t[who]);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({ caseId, statusLabel: label });
        expect(response.body.position).toBeUndefined();
        expect(response.headers.etag).toBe(`"${response.body.revision}"`);
      }
      expect((await api.call('get', `/v1/cases/${caseId}`, t.integration)).status).toBe(403);
      expect((await api.call('get', '/v1/cases/c-unknown', t.admin)).status).toBe(404);
    });

    it('GET /v1/cases/:caseId/events lists the stream in revision order for staff only', async () => {
      const orderId = await order('shipped');
      const caseId = await openCase({ orderId, kind: 'refund_only', reason: 'not_received', lines: [line('L1')] });
      await act(caseId, 'reject', t.merchant, { reason: 'No' }, { 'X-Correlation-Id': 'corr-reject' });
      const response = await api.call('get', `/v1/cases/${caseId}/events`, t.arbitrator);
      expect(response.status).toBe(200);
      const items = response.body.items;
      expect(items.map((e: { revision: number }) => e.revision)).toEqual(items.map((_: unknown, i: number) => i));
      expect(response.headers.etag).toBe(`"${items.length - 1}"`);
      expect(items[0]).toMatchObject({ type: 'ReturnRequested', revision: 0, data: { caseId, orderId, kind: 'refund_only' } });
      expect(Object.keys(items[0]).sort()).toEqual(['data', 'id', 'metadata', 'position', 'recordedAt', 'revision', 'type']);
      expect(new Date(items[0].recordedAt).toISOString()).toBe(items[0].recordedAt);
      const rejected = items.find((e: { type: string }) => e.type === 'MerchantRejected');
      expect(rejected.metadata).toMatchObject({ actor: { role: 'merchant', id: 'm-staff' }, channel: 'web', correlationId: 'corr-reject', schemaVersion: 1 });
      for (const who of ['buyer', 'merchant']) expect((await api.call('get', `/v1/cases/${caseId}/events`, t[who])).status).toBe(403);
    });
  });

  it('counts command outcomes and documents every action', async () => {
    const metrics = (await api.call('get', '/metrics')).text;
    expect(metrics).toMatch(/command_outcomes_total\{command="approve",outcome="accepted"\} \d+/);
    expect(metrics).toMatch(/command_outcomes_total\{command="accept-offer",outcome="precondition_failed"\} 1/);
    expect(metrics).toMatch(/command_outcomes_total\{command="request",outcome="refused"\} \d+/);

    const document = (await api.call('get', '/docs-json')).body;
    const actions = ['approve', 'reject', 'counter-offer', 'accept-offer', 'decline-offer', 'withdraw', 'urge', 'amend', 'ship-return', 'confirm-receipt',
      'ship-replacement', 'declare-unrepairable', 'confirm-delivery', 'escalate', 'rule', 'claim', 'release', 'assign', 'transfer', 'note', 'compensate', 'retry-refund', 'rate'];
    for (const action of actions) {
      const operation = document.paths[`/v1/cases/{caseId}/${action}`]?.post;
      expect({ action, statuses: Object.keys(operation?.responses ?? {}) }).toEqual({
        action,
        statuses: expect.arrayContaining(['200', '400', '401', '403', '404', '409', '412', '422']),
      });
      expect(operation.parameters.map((p: { name?: string; $ref?: string }) => p.name ?? p.$ref)).toEqual(
        expect.arrayContaining(['caseId', 'If-Match', '#/components/parameters/IdempotencyKey']),
      );
    }
    expect(document.paths['/v1/cases/{caseId}/approve'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/ApproveDto');
    expect(document.paths['/v1/cases/{caseId}/withdraw'].post.requestBody.required).toBe(false);
    expect(document.paths['/v1/cases'].post.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/CaseCommandResponse');
    expect(document.components.schemas.RequestCaseDto.properties.kind.enum).toContain('return_and_refund');
  });
});
