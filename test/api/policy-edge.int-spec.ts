import { daysAgo, orderBody, PROBLEM, startCommandApp, token, type CommandApp } from '../commands/support/app';

jest.setTimeout(30_000);

// Policy durations read the same on every route, and a scope that cannot
// exist is a bad request rather than a missing resource.
describe('policy routes at the edge', () => {
  let api: CommandApp;
  let admin: string;
  let buyer: string;

  beforeAll(async () => {
    api = await startCommandApp();
    admin = await token({ sub: 'admin-1', role: 'admin' });
    buyer = await token({ sub: 'u-buyer', role: 'buyer' });
    const integration = await token({ sub: 'order-system', role: 'integration' });
    await api.call('put', '/v1/orders/o-pol', integration, orderBody({ merchantId: 'm-pol' }));
    await api.call('post', '/v1/orders/o-pol/shipped', integration, { carrier: 'sf', trackingNumber: 'SF-POL', shippedAt: daysAgo(3) });
    await api.call('post', '/v1/orders/o-pol/delivered', integration, { deliveredAt: daysAgo(1) });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('writes each duration in one canonical form in policies and eligibility alike', async () => {
    const put = await api.call('put', '/v1/policies/merchant-m-pol', admin, { buyerAppeal: 'PT168H', urgeCooldown: 'PT90M' });
    expect(put.status).toBe(200);
    expect(put.body.overrides).toEqual({ buyerAppeal: 'P7D', urgeCooldown: 'PT1H30M' });

    const policy = await api.call('get', '/v1/policies/merchant-m-pol', admin);
    const eligibility = await api.call('get', '/v1/orders/o-pol/eligibility', buyer);
    expect(eligibility.status).toBe(200);
    expect(policy.body.effective).toMatchObject({ merchantResponse: 'P2D', buyerAppeal: 'P7D', urgeCooldown: 'PT1H30M' });
    expect(policy.body.effective).toEqual(eligibility.body.policy);
  });

  it('treats the same durations written another way as the same overrides', async () => {
    const first = await api.call('put', '/v1/policies/merchant-m-same', admin, { merchantResponse: 'PT24H' });
    expect(first.body.position).toBeDefined();
    const head = await api.head();
    const again = await api.call('put', '/v1/policies/merchant-m-same', admin, { merchantResponse: 'P1D' });
    expect(again.status).toBe(200);
    expect(again.body.position).toBeUndefined();
    expect(await api.head()).toBe(head);
  });

  it.each(['merchant-', 'merchant-a.b', 'shop-1', 'Platform'])('answers 400 naming the field for the malformed scope %s', async (scope) => {
    for (const method of ['get', 'put'] as const) {
      const response = await api.call(method, `/v1/policies/${scope}`, admin, method === 'put' ? { maxAmendments: 2 } : undefined);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.errors).toEqual([{ field: 'scope', message: expect.stringContaining('platform or merchant-<merchantId>') }]);
    }
  });
});
