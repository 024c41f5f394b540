import { daysAgo, orderBody, PROBLEM, startCommandApp, token, type CommandApp } from '../commands/support/app';

jest.setTimeout(30_000);

// Edge details of the command routes: what a refusal says, how much a body
// may hold, and how much a page of a case's events reads.
describe('API edge details', () => {
  let api: CommandApp;
  const t: Record<string, string> = {};

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

  async function deliveredOrder(orderId: string): Promise<void> {
    expect((await api.call('put', `/v1/orders/${orderId}`, t.integration, orderBody())).status).toBe(201);
    expect((await api.call('post', `/v1/orders/${orderId}/shipped`, t.integration, { carrier: 'sf', trackingNumber: `SF-${orderId}`, shippedAt: daysAgo(3) })).status).toBe(200);
    expect((await api.call('post', `/v1/orders/${orderId}/delivered`, t.integration, { deliveredAt: daysAgo(1) })).status).toBe(200);
  }

  it('says the order is unknown when a request names one that does not exist', async () => {
    const head = await api.head();
    const response = await api.call('post', '/v1/cases', t.buyer, { orderId: 'o-nowhere', kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }] });
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(response.body.detail).toBe('No such order, or not one this caller may see.');
    expect(await api.head()).toBe(head);
  });

  it('answers a snapshot conflict with 409 and an (empty) allowedActions', async () => {
    expect((await api.call('put', '/v1/orders/o-snap', t.integration, orderBody())).status).toBe(201);
    const conflict = await api.call('put', '/v1/orders/o-snap', t.integration, orderBody({ buyerTrustScore: 999 }));
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ status: 409, reason: 'order_snapshot_differs', allowedActions: [] });
  });

  describe('at most 100 lines in a body', () => {
    const orderLine = (i: number) => ({
      lineId: `L${i}`, sku: `SKU-${i}`, productId: 'p', title: 'Item', category: 'c', supplierId: 's', quantity: 1, unitPrice: 100, paidAmount: 100, noReasonReturn: false,
    });
    const orderWith = (count: number) => {
      const lines = Array.from({ length: count }, (_, i) => orderLine(i));
      return orderBody({ lines, shippingFee: 0, paidAmount: 100 * count });
    };

    it('registers an order of 100 lines and refuses one of 101 with 400 on lines', async () => {
      expect((await api.call('put', '/v1/orders/o-100-lines', t.integration, orderWith(100))).status).toBe(201);
      const refused = await api.call('put', '/v1/orders/o-101-lines', t.integration, orderWith(101));
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toContainEqual({ field: 'lines', message: 'lines must hold at most 100 lines' });
    });

    it('refuses a request naming 101 lines with 400 on lines', async () => {
      const lines = Array.from({ length: 101 }, (_, i) => ({ lineId: `L${i}`, quantity: 1 }));
      const refused = await api.call('post', '/v1/cases', t.buyer, { orderId: 'o-100-lines', kind: 'refund_only', reason: 'not_received', lines });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toContainEqual({ field: 'lines', message: 'lines must hold at most 100 lines' });
    });

    it('documents the maximum in the OpenAPI document', async () => {
      const schemas = (await api.call('get', '/docs-json')).body.components.schemas;
      expect(schemas.RegisterOrderDto.properties.lines.maxItems).toBe(100);
      expect(schemas.RequestCaseDto.properties.lines.maxItems).toBe(100);
    });
  });

  it('reads only the page asked for from a case stream, and pages through all of it', async () => {
    await deliveredOrder('o-events');
    const opened = await api.call('post', '/v1/cases', t.buyer, { orderId: 'o-events', kind: 'exchange', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false });
    expect(opened.status).toBe(201);
    const caseId = opened.body.caseId as string;
    expect((await api.call('post', `/v1/cases/${caseId}/claim`, t.agent, {})).status).toBe(200);
    for (const text of ['one', 'two', 'three']) {
      expect((await api.call('post', `/v1/cases/${caseId}/note`, t.agent, { text })).status).toBe(200);
    }
    const revision = (await api.call('get', `/v1/cases/${caseId}`, t.agent)).body.revision as number;

    const reads = jest.spyOn(api.store, 'readStream');
    try {
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        reads.mockClear();
        const page = await api.call('get', `/v1/cases/${caseId}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`, t.agent);
        expect(page.status).toBe(200);
        expect(page.headers.etag).toBe(`"${revision}"`);
        seen.push(...page.body.items.map((e: { revision: number }) => e.revision));
        // Whatever else the request read, no stream read returned more than the page.
        for (const result of reads.mock.results) expect((await result.value).length).toBeLessThanOrEqual(2);
        expect(reads.mock.calls.some(([, options]) => options?.maxCount !== undefined && options.maxCount <= 2)).toBe(true);
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(Array.from({ length: revision + 1 }, (_, i) => i));
    } finally {
      reads.mockRestore();
    }
  });
});
