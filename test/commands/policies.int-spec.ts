import { daysAgo, orderBody, PROBLEM, startCommandApp, token, type CommandApp } from './support/app';

jest.setTimeout(30_000);

describe('policy routes', () => {
  let api: CommandApp;
  const t: Record<string, string> = {};

  beforeAll(async () => {
    api = await startCommandApp();
    t.admin = await token({ sub: 'admin-1', role: 'admin' });
    t.buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    t.merchant = await token({ sub: 'm-staff', role: 'merchant', merchantId: 'm1' });
    t.agent = await token({ sub: 'agent-1', role: 'agent', businessLine: 'apparel', authorityLimit: 50_000 });
    t.integration = await token({ sub: 'order-system', role: 'integration' });
  });

  afterAll(async () => {
    await api?.close();
  });

  const get = (scope: string, bearer = t.admin) => api.call('get', `/v1/policies/${scope}`, bearer);
  const put = (scope: string, body: unknown, bearer = t.admin) => api.call('put', `/v1/policies/${scope}`, bearer, body);

  it('shows the platform defaults before anything is set', async () => {
    const response = await get('platform');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      scope: 'platform',
      overrides: {},
      effective: expect.objectContaining({ merchantResponse: 'P2D', buyerShipBack: 'P7D', maxAmendments: 3, compensationCap: 10_000 }),
    });
    expect(Object.keys(response.body.effective)).toHaveLength(22);
    expect(response.body.effective).toMatchObject({ autoReviewRefundBeforeShipment: 1, autoReviewSmallAmount: 1 });
  });

  it('replaces the platform overrides, and the same overrides again append nothing', async () => {
    const before = await api.head();
    const changed = await put('platform', { merchantResponse: 'PT24H', compensationCap: 20_000 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      scope: 'platform',
      overrides: { merchantResponse: 'P1D', compensationCap: 20_000 },
      effective: { merchantResponse: 'P1D', compensationCap: 20_000, buyerAppeal: 'P7D' },
    });
    expect(changed.body.position).toBeGreaterThan(before);
    expect(changed.body.position).toBe(await api.head());

    const head = await api.head();
    const again = await put('platform', { compensationCap: 20_000, merchantResponse: 'PT24H' });
    expect(again.status).toBe(200);
    expect(again.body.position).toBeUndefined();
    expect(await api.head()).toBe(head);

    const [event] = (await api.store.readStream('policy-platform')).slice(-1);
    expect(event).toMatchObject({ type: 'PolicyChanged', metadata: { actor: { role: 'admin', id: 'admin-1' }, channel: 'web' } });
  });

  it('layers a merchant\'s overrides over the platform\'s, field by field', async () => {
    const response = await put('merchant-m1', { compensationCap: 500, merchantResponse: 'PT1H' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ scope: 'merchant-m1', overrides: { compensationCap: 500, merchantResponse: 'PT1H' } });
    expect(response.body.effective).toMatchObject({ compensationCap: 500, merchantResponse: 'PT1H', buyerAppeal: 'P7D' });
    expect((await get('merchant-m1')).body.effective.compensationCap).toBe(500);
    expect((await get('platform')).body.effective.compensationCap).toBe(20_000);
    expect((await get('merchant-m2')).body).toMatchObject({ overrides: {}, effective: { compensationCap: 20_000, merchantResponse: 'P1D' } });
  });

  it('applies the merchant\'s policy to requests that come later', async () => {
    const orderId = 'o-policy';
    expect((await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody())).status).toBe(201);
    await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: 'SF1', shippedAt: daysAgo(2) });
    const capped = await api.call('post', '/v1/cases', t.buyer, { orderId, kind: 'compensation', reason: 'late_delivery', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 501 });
    expect(capped.status).toBe(422);
    expect(capped.body.rule).toBe('compensation_cap_exceeded');

    const opened = await api.call('post', '/v1/cases', t.buyer, { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }] });
    expect(opened.status).toBe(201);
    const due = Date.parse(opened.body.deadlines.merchantResponse) - Date.parse(opened.body.requestedAt);
    expect(due).toBe(3_600_000);
  });

  it('clears a scope\'s overrides with an empty body', async () => {
    await put('merchant-m3', { maxAmendments: 1 });
    const cleared = await put('merchant-m3', {});
    expect(cleared.status).toBe(200);
    expect(cleared.body.overrides).toEqual({});
    expect(cleared.body.effective.maxAmendments).toBe(3);
    expect(typeof cleared.body.position).toBe('number');
  });

  it('answers 400 naming each field that is unknown or ill-formed, and appends nothing', async () => {
    const head = await api.head();
    const response = await put('platform', {
      merchantResponse: '48h',
      buyerAppeal: 'P1M',
      maxAmendments: -1,
      compensationCap: '5',
      autoReviewMinTrust: 1.5,
      urgeCooldown: null,
      autoReviewSmallAmount: 2,
      colour: 'blue',
    });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(
      ['autoReviewMinTrust', 'autoReviewSmallAmount', 'buyerAppeal', 'colour', 'compensationCap', 'maxAmendments', 'merchantResponse', 'urgeCooldown'].sort(),
    );
    expect(await api.head()).toBe(head);
    expect((await put('platform', [1])).status).toBe(400);
  });

  it('answers 400 for a scope that is neither platform nor merchant-<merchantId>', async () => {
    for (const scope of ['merchant', 'merchant-', 'merchants-m1', `merchant-${'m'.repeat(65)}`, 'merchant-m.1']) {
      const response = await get(scope);
      expect({ scope, status: response.status }).toEqual({ scope, status: 400 });
    }
    expect((await put('global', { maxAmendments: 2 })).status).toBe(400);
    expect((await put('global', { maxAmendments: -2 })).status).toBe(400);
  });

  it('answers 403 to every role but admin', async () => {
    for (const who of ['buyer', 'merchant', 'agent', 'integration']) {
      expect((await get('platform', t[who])).status).toBe(403);
      expect((await put('platform', { maxAmendments: 9 }, t[who])).status).toBe(403);
    }
    expect((await api.call('get', '/v1/policies/platform')).status).toBe(401);
  });

  it('counts policy changes and documents the routes', async () => {
    const metrics = (await api.call('get', '/metrics')).text;
    expect(metrics).toMatch(/command_outcomes_total\{command="change-policy",outcome="accepted"\} \d+/);
    expect(metrics).toMatch(/command_outcomes_total\{command="change-policy",outcome="unchanged"\} 1/);
    const document = (await api.call('get', '/docs-json')).body;
    const operation = document.paths['/v1/policies/{scope}'].put;
    expect(operation.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/PolicyOverridesDto');
    expect(Object.keys(document.components.schemas.PolicyOverridesDto.properties)).toHaveLength(22);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '403']));
  });
});
