import request from 'supertest';
import { CommandBus } from '@nestjs/cqrs';
import { ExecuteCaseCommand } from '@aftersales/application';
import { daysAgo, orderBody, PROBLEM, startCommandApp, token, type CommandApp } from './support/app';

jest.setTimeout(30_000);

describe('buyer flag', () => {
  let api: CommandApp;
  const t: Record<string, string> = {};
  let orders = 0;

  beforeAll(async () => {
    api = await startCommandApp();
    t.admin = await token({ sub: 'admin-1', role: 'admin' });
    t.buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
    t.arbitrator = await token({ sub: 'arb-1', role: 'arbitrator', businessLine: 'apparel' });
    t.integration = await token({ sub: 'order-system', role: 'integration' });
  });

  afterAll(async () => {
    await api?.close();
  });

  const path = (buyerId: string) => `/v1/buyers/${buyerId}/flag`;
  const get = (buyerId: string, bearer = t.admin) => api.call('get', path(buyerId), bearer);
  const put = (buyerId: string, body: unknown, bearer = t.admin, headers: Record<string, string> = {}) => api.call('put', path(buyerId), bearer, body, headers);
  /** DELETE, with a JSON body when one is given. */
  function remove(buyerId: string, body?: unknown, bearer = t.admin): Promise<request.Response> {
    let call = request(api.app.getHttpServer()).delete(path(buyerId));
    if (bearer) call = call.set('Authorization', `Bearer ${bearer}`);
    return body === undefined ? call : call.send(body as object);
  }
  const buyerEvents = async (buyerId: string) => (await api.store.readStream(`buyer-${buyerId}`)).map((e) => ({ type: e.type, data: e.data }));

  it('an admin flags a buyer; flagging again records nothing and keeps the first reason', async () => {
    expect((await get('u-f1')).body).toEqual({ buyerId: 'u-f1', flagged: false });

    const flagged = await put('u-f1', { reason: 'eleven refunds in a week' });
    expect(flagged.status).toBe(200);
    expect(flagged.body).toEqual({ buyerId: 'u-f1', flagged: true, reason: 'eleven refunds in a week', since: expect.any(String), position: await api.head() });
    expect(Date.parse(flagged.body.since)).not.toBeNaN();

    const head = await api.head();
    const again = await put('u-f1', { reason: 'another reason' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ buyerId: 'u-f1', flagged: true, reason: 'eleven refunds in a week', since: flagged.body.since });
    expect(await api.head()).toBe(head);

    expect((await get('u-f1')).body).toEqual({ buyerId: 'u-f1', flagged: true, reason: 'eleven refunds in a week', since: flagged.body.since });
    const [stored] = await api.store.readStream('buyer-u-f1');
    expect(stored).toMatchObject({ type: 'BuyerFlagged', data: { buyerId: 'u-f1', reason: 'eleven refunds in a week' }, metadata: { actor: { role: 'admin', id: 'admin-1' }, channel: 'web' } });
  });

  it('DELETE unflags, with or without a reason; unflagging an unflagged buyer records nothing', async () => {
    await put('u-f2', { reason: 'abuse' });
    const cleared = await remove('u-f2');
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ buyerId: 'u-f2', flagged: false, since: expect.any(String), position: await api.head() });

    const head = await api.head();
    const again = await remove('u-f2', { reason: 'twice' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ buyerId: 'u-f2', flagged: false });
    expect(again.body.position).toBeUndefined();
    expect(await api.head()).toBe(head);

    await put('u-f2', { reason: 'abuse again' });
    expect((await remove('u-f2', { reason: 'reviewed by a person' })).body).toMatchObject({ flagged: false, reason: 'reviewed by a person' });
    expect(await buyerEvents('u-f2')).toEqual([
      { type: 'BuyerFlagged', data: { buyerId: 'u-f2', reason: 'abuse' } },
      { type: 'BuyerUnflagged', data: { buyerId: 'u-f2' } },
      { type: 'BuyerFlagged', data: { buyerId: 'u-f2', reason: 'abuse again' } },
      { type: 'BuyerUnflagged', data: { buyerId: 'u-f2', reason: 'reviewed by a person' } },
    ]);
  });

  it('answers 403 to every role but admin and 401 without a token, appending nothing', async () => {
    const head = await api.head();
    for (const who of ['buyer', 'merchant', 'agent', 'arbitrator', 'integration']) {
      expect({ who, status: (await get('u-f3', t[who])).status }).toEqual({ who, status: 403 });
      expect({ who, status: (await put('u-f3', { reason: 'x' }, t[who])).status }).toEqual({ who, status: 403 });
      expect({ who, status: (await remove('u-f3', undefined, t[who])).status }).toEqual({ who, status: 403 });
    }
    expect((await api.call('put', path('u-f3'), undefined, { reason: 'x' })).status).toBe(401);
    expect(await api.head()).toBe(head);
  });

  it('answers 400 with problem+json for a bad body or buyer id, appending nothing', async () => {
    const head = await api.head();
    for (const body of [{}, { reason: '' }, { reason: 7 }, { reason: 'x', colour: 'blue' }, { reason: 'x'.repeat(2001) }, { reason: null }]) {
      const response = await put('u-f4', body);
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.errors.length).toBeGreaterThan(0);
    }
    expect((await remove('u-f4', { colour: 'blue' })).status).toBe(400);
    expect((await remove('u-f4', { reason: 3 })).status).toBe(400);
    expect((await put('u.f4', { reason: 'x' })).status).toBe(400);
    expect((await get('u.f4')).status).toBe(400);
    expect(await api.head()).toBe(head);
  });

  it('PUT honours Idempotency-Key: the same body again returns the first answer, another body is 422', async () => {
    const first = await put('u-f5', { reason: 'first' }, t.admin, { 'Idempotency-Key': 'flag-u-f5' });
    expect(first.status).toBe(200);
    await remove('u-f5');
    const head = await api.head();
    const replay = await put('u-f5', { reason: 'first' }, t.admin, { 'Idempotency-Key': 'flag-u-f5' });
    expect({ status: replay.status, body: replay.body }).toEqual({ status: 200, body: first.body });
    expect(await api.head()).toBe(head);
    const other = await put('u-f5', { reason: 'second' }, t.admin, { 'Idempotency-Key': 'flag-u-f5' });
    expect({ status: other.status, rule: other.body.rule }).toEqual({ status: 422, rule: 'idempotency_key_reused' });
    expect((await get('u-f5')).body.flagged).toBe(false);
  });

  describe('the command path reads the flag where it decides', () => {
    /** An order of `buyerId`, trusted enough for auto-review and express refunds, shipped (and delivered if asked). */
    async function order(buyerId: string, delivered: boolean): Promise<string> {
      orders += 1;
      const orderId = `o-flag-${orders}`;
      expect((await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody({ buyerId, buyerTrustScore: 900 }))).status).toBe(201);
      expect((await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `OUT-${orders}`, shippedAt: daysAgo(3) })).status).toBe(200);
      if (delivered) expect((await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) })).status).toBe(200);
      return orderId;
    }

    async function smallRefund(buyerId: string, bearer: string): Promise<Record<string, unknown>> {
      const orderId = await order(buyerId, false);
      const opened = await api.call('post', '/v1/cases', bearer, { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L2', quantity: 1 }], requestedAmount: 3_000 });
      expect(opened.status).toBe(201);
      return opened.body;
    }

    /** A return_and_refund case approved, shipped back, then collected by the carrier (the logistics callback's command). */
    async function collectedReturn(buyerId: string, bearer: string): Promise<Record<string, unknown>> {
      const orderId = await order(buyerId, true);
      const opened = await api.call('post', '/v1/cases', bearer, { orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 9_000, pickup: false });
      expect(opened.status).toBe(201);
      const caseId = opened.body.caseId as string;
      if (opened.body.status === 'pending_merchant') expect((await api.call('post', `/v1/cases/${caseId}/approve`, t.merchant, {})).status).toBe(200);
      const trackingNumber = `RET-${caseId}`;
      expect((await api.call('post', `/v1/cases/${caseId}/ship-return`, bearer, { carrier: 'sf', trackingNumber })).status).toBe(200);
      const logistics = { role: 'integration', id: 'logistics' } as const;
      await api.app.get(CommandBus).execute(
        new ExecuteCaseCommand(caseId, { type: 'return-collected', actor: logistics, data: { trackingNumber, at: new Date().toISOString() } }, { actor: logistics, channel: 'api', correlationId: `collected-${caseId}` }),
      );
      return (await api.call('get', `/v1/cases/${caseId}`, t.agent)).body;
    }

    it('a flagged buyer\'s small refund_only request is not auto-approved; once unflagged it is again', async () => {
      const buyerId = 'u-small';
      const bearer = await token({ sub: buyerId, role: 'buyer' });
      expect(await smallRefund(buyerId, bearer)).toMatchObject({ status: 'refunding' });

      expect((await put(buyerId, { reason: 'abuse' })).status).toBe(200);
      const flagged = await smallRefund(buyerId, bearer);
      expect(flagged).toMatchObject({ status: 'pending_merchant', refunds: [] });
      const events = (await api.call('get', `/v1/cases/${flagged.caseId}/events`, t.agent)).body.items.map((e: { type: string }) => e.type);
      expect(events).not.toContain('AutoReviewApproved');

      expect((await remove(buyerId)).status).toBe(200);
      expect(await smallRefund(buyerId, bearer)).toMatchObject({ status: 'refunding' });
    });

    it('a flagged buyer\'s cases are in the agents\' pool: the case as an agent sees it offers approve without a claim', async () => {
      const buyerId = 'u-pool';
      const bearer = await token({ sub: buyerId, role: 'buyer' });
      expect((await put(buyerId, { reason: 'abuse' })).status).toBe(200);
      const opened = await smallRefund(buyerId, bearer);
      const seen = (await api.call('get', `/v1/cases/${opened.caseId as string}`, t.agent)).body;
      expect(seen.allowedActions).toEqual(expect.arrayContaining(['approve', 'claim']));
      expect((await remove(buyerId)).status).toBe(200);
      const after = (await api.call('get', `/v1/cases/${opened.caseId as string}`, t.agent)).body;
      expect(after.allowedActions).not.toContain('approve');
    });

    it('a flagged buyer\'s collected return is not express-refunded; once unflagged it is again', async () => {
      const buyerId = 'u-express';
      const bearer = await token({ sub: buyerId, role: 'buyer' });
      expect((await put(buyerId, { reason: 'abuse' })).status).toBe(200);
      const flagged = await collectedReturn(buyerId, bearer);
      expect(flagged).toMatchObject({ status: 'return_in_transit', refunds: [] });

      expect((await remove(buyerId)).status).toBe(200);
      const trusted = await collectedReturn(buyerId, bearer);
      expect(trusted).toMatchObject({ status: 'return_in_transit', refunds: [{ amount: 9_000, express: true, status: 'pending' }] });
    });

    it('an agent requesting on a flagged buyer\'s behalf gets no auto-review either', async () => {
      const buyerId = 'u-behalf';
      await put(buyerId, { reason: 'abuse' });
      const orderId = await order(buyerId, false);
      const opened = await api.call('post', '/v1/cases', t.agent, { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L2', quantity: 1 }], requestedAmount: 3_000 });
      expect({ status: opened.status, caseStatus: opened.body.status }).toEqual({ status: 201, caseStatus: 'pending_merchant' });
    });
  });

  it('counts flag changes and documents the routes', async () => {
    const metrics = (await api.call('get', '/metrics')).text;
    expect(metrics).toMatch(/command_outcomes_total\{command="flag-buyer",outcome="accepted"\} \d+/);
    expect(metrics).toMatch(/command_outcomes_total\{command="unflag-buyer",outcome="unchanged"\} \d+/);
    const document = (await api.call('get', '/docs-json')).body;
    const operations = document.paths['/v1/buyers/{buyerId}/flag'];
    expect(Object.keys(operations).sort()).toEqual(['delete', 'get', 'put']);
    expect(operations.put.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/FlagBuyerDto');
    expect(Object.keys(operations.put.responses)).toEqual(expect.arrayContaining(['200', '400', '403']));
    expect(document.components.schemas.BuyerFlagResponse.properties).toEqual(expect.objectContaining({ buyerId: expect.anything(), flagged: expect.anything(), since: expect.anything() }));
  });
});
