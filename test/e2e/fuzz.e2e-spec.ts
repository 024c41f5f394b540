import fc from 'fast-check';
import { describeResponse, type ApiResponse } from './support/http';
import { Platform, type StoreSnapshot } from './support/platform';
import { hoursAgo, uniqueId } from './support/orders';
import { startService, stopService, type StartedService } from './support/service';

jest.setTimeout(60_000);

// Random and hostile requests on every POST/PUT route, sent with the role
// that uses the route so that they reach body parsing and validation: never
// a 5xx, every error problem+json, and nothing appended to the store.

const MERCHANT = 'm-fuzz';
const LINE = 'fuzzline';
const RUNS_PER_ROUTE = 120;

/** What goes on the wire: bytes (or nothing) and a content type (null: none). */
interface Wire {
  raw?: string | Uint8Array;
  contentType?: string | null;
  label: string;
}

const HUGE = 'x'.repeat(100_000);
const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const deepArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const INVALID_UTF8 = (json: string) => {
  // The JSON text with two bytes that are not UTF-8 inside its first string value.
  const at = json.indexOf('"', json.indexOf(':')) + 1;
  const bytes = Buffer.from(json, 'utf8');
  return Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe]), bytes.subarray(at)]);
};

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    HUGE, -1, -0.5, 0.5, 1e308, -1e308, 2 ** 53 + 2, 0, '', ' ', '1', 'null', true, false, null, [], {}, [[[]]],
    { $gt: 0 }, '\u0000', '<script>alert(1)</script>', "'; DROP TABLE events; --", '💥'.repeat(3000), 'https://', 'javascript:alert(1)',
    ['https://img.example.com/a.jpg', 7], [{ lineId: 'L1', quantity: -1 }], [{ lineId: 'L1', quantity: 1e308 }], '2026-02-30T25:61:00Z',
  ),
  fc.anything({ maxDepth: 3 }),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
);

/** Paths to every field of the template, nested ones included (`lines.0.quantity`), and an unknown one at each level. */
function fieldPaths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [...entries.flatMap(([key, child]) => [[...prefix, key], ...fieldPaths(child, [...prefix, key])]), [...prefix, 'unknownField']];
}

function withValueAt(template: unknown, path: Array<string | number>, value: unknown): unknown {
  const copy = structuredClone(template) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1]] = value;
  return copy;
}

/** Random wires for a route whose valid body is `template`. */
function wires(template: Record<string, unknown>): fc.Arbitrary<Wire> {
  const mutated = fc
    .record({ path: fc.constantFrom(...fieldPaths(template)), value: hostileValue })
    .map(({ path, value }): Wire => ({ raw: JSON.stringify(withValueAt(template, path, value)), label: `mutate ${path.join('.')}` }));
  const anything = fc.anything({ maxDepth: 4, withNullPrototype: true }).map((value): Wire => {
    const raw = JSON.stringify(value);
    return raw === undefined ? { label: 'no body' } : { raw, label: 'anything' };
  });
  const json = fc.jsonValue({ maxDepth: 4 }).map((value): Wire => ({ raw: JSON.stringify(value), label: 'json value' }));
  const body = JSON.stringify(template);
  const fixed = fc.constantFrom<Wire>(
    { raw: body.replace(/^\{/, '{"__proto__":{"isAdmin":true},'), label: '__proto__ key' },
    { raw: body.replace(/^\{/, '{"constructor":{"prototype":{"isAdmin":true}},'), label: 'constructor key' },
    { raw: JSON.stringify({ ...template, nested: JSON.parse(deepObject(50)) }), label: '50 levels in a field' },
    { raw: deepObject(50), label: '50 levels' },
    { raw: deepArray(50), label: '50 nested arrays' },
    { raw: JSON.stringify([template]), label: 'array instead of object' },
    { raw: '[]', label: 'empty array' },
    { raw: 'hello', label: 'text as JSON' },
    { raw: "{'a': 1}", label: 'single quotes' },
    { raw: body.slice(0, -1), label: 'truncated' },
    { raw: `${body}${body}`, label: 'two documents' },
    { raw: 'NaN', label: 'NaN' },
    { raw: `{"${HUGE}":1}`, label: '100 kB key' },
    { raw: JSON.stringify({ ...template, note: HUGE, text: HUGE, description: HUGE, reason: HUGE }), label: '100 kB strings' },
    { raw: body, contentType: 'text/plain', label: 'text/plain' },
    { raw: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded', label: 'form' },
    { raw: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--', contentType: 'multipart/form-data; boundary=x', label: 'multipart' },
    { raw: '<a>1</a>', contentType: 'application/xml', label: 'xml' },
    { raw: body, contentType: 'application/json; charset=latin1', label: 'latin1 charset' },
    { raw: INVALID_UTF8(JSON.stringify({ ...template, note: 'ok' })), label: 'invalid UTF-8' },
    { raw: new Uint8Array([0x00, 0x01, 0xff, 0x7b]), label: 'binary' },
  );
  return fc.oneof({ arbitrary: mutated, weight: 3 }, { arbitrary: anything, weight: 2 }, { arbitrary: json, weight: 1 }, { arbitrary: fixed, weight: 2 });
}

function expectNoServerErrorAndProblem(response: ApiResponse, wire: Wire): void {
  const context = `${wire.label}: ${describeResponse(response)}`;
  if (response.status >= 500) throw new Error(`server error for ${context}`);
  if (response.status >= 400) {
    if (!/^application\/problem\+json/.test(response.headers['content-type'] ?? '')) throw new Error(`not problem+json for ${context}`);
    const b = response.body;
    const ok = b && typeof b.type === 'string' && typeof b.title === 'string' && b.status === response.status && typeof b.detail === 'string';
    if (!ok) throw new Error(`problem members missing for ${context}`);
  }
}

describe('fuzzing every POST/PUT route', () => {
  let started: StartedService;
  let p: Platform;
  let orderId: string;
  let closedCaseId: string;
  let heldCaseId: string;
  const tokens = {} as Record<'buyer' | 'merchant' | 'agent' | 'arbitrator' | 'admin' | 'integration', string>;
  let snapshot: StoreSnapshot;
  let heldEvents: unknown[];

  beforeAll(async () => {
    started = await startService();
    p = new Platform(started.api);
    const buyerId = uniqueId('b');
    tokens.buyer = await p.buyer(buyerId);
    tokens.merchant = await p.merchant(MERCHANT);
    tokens.agent = await p.agent('agent-fuzz', LINE, 1_000_000);
    tokens.arbitrator = await p.arbitrator('arb-fuzz', LINE);
    tokens.admin = await p.admin();
    tokens.integration = await p.integration();

    // The only line is held by an active case, and the case under fuzz is
    // closed (withdrawn): no well-formed command on it or request on the
    // order can be accepted, so every answer must leave the store as it was.
    ({ orderId } = await p.order({ buyerId, merchantId: MERCHANT, businessLine: LINE }, 'delivered', { shippedAt: hoursAgo(48), deliveredAt: hoursAgo(1) }));
    closedCaseId = (await p.mustOpenCase(tokens.buyer, { orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false })).caseId;
    await p.mustAct(closedCaseId, 'withdraw', tokens.buyer);
    heldCaseId = (await p.mustOpenCase(tokens.buyer, { orderId, kind: 'reship', reason: 'missing_item', lines: [{ lineId: 'L1', quantity: 1 }] })).caseId;
    snapshot = await p.storeSnapshot(closedCaseId, orderId);
    heldEvents = await p.events(heldCaseId);
  }, 90_000);

  afterAll(() => stopService(started));

  const unchanged = async () => {
    expect(await p.storeSnapshot(closedCaseId, orderId)).toEqual(snapshot);
    expect(await p.events(heldCaseId)).toEqual(heldEvents);
  };

  // A well-formed snapshot that differs from the registered one: at best a 409.
  const otherSnapshot = {
    buyerId: 'b', merchantId: MERCHANT, currency: 'CNY', paidAmount: 12_800, shippingFee: 800, paymentMethod: 'alipay', paymentAccount: 'a', buyerTrustScore: 500,
    returnShippingInsured: false, businessLine: LINE, placedAt: hoursAgo(72),
    lines: [{ lineId: 'L1', sku: 's', productId: 'p', title: 't', category: 'c', supplierId: 's', quantity: 1, unitPrice: 12_000, paidAmount: 12_000, noReasonReturn: true }],
  };

  /** `read`: for a route a random body may pass (it replaces or sets something), what it changes, read back. */
  type Target = { name: string; method: 'POST' | 'PUT'; path: () => string; role: keyof typeof tokens; template: Record<string, unknown>; read?: () => Promise<unknown> };
  const caseAction = (action: string, role: keyof typeof tokens, template: Record<string, unknown> = {}): Target => ({
    name: `POST /v1/cases/:id/${action}`,
    method: 'POST',
    path: () => `/v1/cases/${closedCaseId}/${action}`,
    role,
    template,
  });

  const targets: Target[] = [
    { name: 'PUT /v1/orders/:id', method: 'PUT', path: () => `/v1/orders/${orderId}`, role: 'integration', template: otherSnapshot },
    { name: 'POST /v1/orders/:id/shipped', method: 'POST', path: () => `/v1/orders/${orderId}/shipped`, role: 'integration', template: { carrier: 'SF', trackingNumber: 'SF9', shippedAt: hoursAgo(30) } },
    { name: 'POST /v1/orders/:id/delivered', method: 'POST', path: () => `/v1/orders/${orderId}/delivered`, role: 'integration', template: { deliveredAt: hoursAgo(2) } },
    {
      name: 'POST /v1/cases',
      method: 'POST',
      path: () => '/v1/cases',
      role: 'buyer',
      template: { orderId: '<order>', kind: 'return_and_refund', reason: 'quality_defect', description: 'd', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 100, evidence: ['https://img.example.com/a.jpg'], channel: 'app', pickup: false },
    },
    caseAction('approve', 'merchant', { note: 'n' }),
    caseAction('reject', 'merchant', { reason: 'r', note: 'n' }),
    caseAction('counter-offer', 'merchant', { amount: 10, note: 'n' }),
    caseAction('accept-offer', 'buyer'),
    caseAction('decline-offer', 'buyer'),
    caseAction('withdraw', 'buyer'),
    caseAction('urge', 'buyer'),
    caseAction('confirm-delivery', 'buyer'),
    caseAction('amend', 'buyer', { description: 'd', requestedAmount: 10, evidence: ['https://img.example.com/b.jpg'] }),
    caseAction('ship-return', 'buyer', { carrier: 'c', trackingNumber: 't' }),
    caseAction('confirm-receipt', 'merchant', { inspection: 'failed', disposition: 'scrap', note: 'n', evidence: ['https://img.example.com/c.jpg'] }),
    caseAction('ship-replacement', 'merchant', { carrier: 'c', trackingNumber: 't' }),
    caseAction('declare-unrepairable', 'merchant', { note: 'n' }),
    caseAction('escalate', 'buyer', { reason: 'r' }),
    caseAction('rule', 'arbitrator', { ruling: 'buyer', refundAmount: 10, returnRequired: false, note: 'n' }),
    caseAction('claim', 'agent'),
    caseAction('release', 'admin'),
    caseAction('assign', 'admin', { agentId: 'agent-x' }),
    caseAction('transfer', 'admin', { agentId: 'agent-x' }),
    caseAction('note', 'admin', { text: 't' }),
    caseAction('compensate', 'agent', { amount: 10, form: 'coupon', note: 'n' }),
    caseAction('rate', 'buyer', { score: 5, nps: 10, comment: 'c' }),
    {
      name: 'PUT /v1/policies/:scope',
      method: 'PUT',
      path: () => '/v1/policies/merchant-fuzz-policy',
      role: 'admin',
      template: { merchantResponse: 'PT48H', maxAmendments: 3 },
      read: async () => (await p.api.get('/v1/policies/merchant-fuzz-policy', { token: tokens.admin })).body,
    },
    {
      name: 'PUT /v1/buyers/:buyerId/flag',
      method: 'PUT',
      path: () => '/v1/buyers/fuzz-buyer/flag',
      role: 'admin',
      template: { reason: 'many returns' },
      read: async () => (await p.api.get('/v1/buyers/fuzz-buyer/flag', { token: tokens.admin })).body,
    },
  ];

  it.each(targets.map((t) => [t.name, t] as const))('%s: hostile bodies never 5xx, always problem+json, never appended', async (_name, target) => {
    const template = target.name === 'POST /v1/cases' ? { ...target.template, orderId } : target.template;
    // A policy or flag PUT may be valid by chance (it replaces or sets): then what is read afterwards is the new baseline.
    let baseline = target.read ? await target.read() : undefined;
    await fc.assert(
      fc.asyncProperty(wires(template), async (wire) => {
        const response = await p.api.request(target.method, target.path(), { token: tokens[target.role], raw: wire.raw, contentType: wire.contentType });
        expectNoServerErrorAndProblem(response, wire);
        if (!target.read && response.status < 300) throw new Error(`accepted: ${wire.label} ${describeResponse(response)}`);
        if (target.read) {
          const now = await target.read();
          if (response.status >= 400) expect(now).toEqual(baseline);
          baseline = now;
        }
      }),
      { numRuns: RUNS_PER_ROUTE },
    );
    await unchanged();
  });

  it('bad Idempotency-Key and If-Match headers on an otherwise acceptable command → 400, nothing appended', async () => {
    const before = await p.storeSnapshot(heldCaseId, orderId);
    const badKeys = ['', ' ', 'has space', 'x'.repeat(256), 'tab\there', 'caf\u00e9'];
    const badIfMatch = ['abc', '"x"', '"-1"', '"1.5"', '""', '"1e2"'];
    for (const idempotencyKey of badKeys) {
      const response = await p.act(heldCaseId, 'note', tokens.admin, { text: 'should not be recorded' }, { idempotencyKey });
      expect({ idempotencyKey, status: response.status }).toEqual({ idempotencyKey, status: 400 });
      expectNoServerErrorAndProblem(response, { label: `Idempotency-Key ${JSON.stringify(idempotencyKey)}` });
    }
    for (const ifMatch of badIfMatch) {
      const response = await p.act(heldCaseId, 'note', tokens.admin, { text: 'should not be recorded' }, { ifMatch });
      expect({ ifMatch, status: response.status }).toEqual({ ifMatch, status: 400 });
      expectNoServerErrorAndProblem(response, { label: `If-Match ${ifMatch}` });
    }
    expect(await p.storeSnapshot(heldCaseId, orderId)).toEqual(before);
  });

  it('invalid UTF-8 in an otherwise acceptable command → 400, nothing appended', async () => {
    const before = await p.storeSnapshot(heldCaseId, orderId);
    const response = await p.api.request('POST', `/v1/cases/${heldCaseId}/note`, { token: tokens.admin, raw: INVALID_UTF8(JSON.stringify({ text: 'broken' })) });
    expectNoServerErrorAndProblem(response, { label: 'invalid UTF-8' });
    expect(response.status).toBe(400);
    expect(await p.storeSnapshot(heldCaseId, orderId)).toEqual(before);
  });

  it('random path ids and query strings on reads never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 80 }), async (id) => {
        const path = encodeURIComponent(id);
        for (const url of [`/v1/cases/${path}`, `/v1/cases/${path}/events`, `/v1/orders/${path}`, `/v1/orders/${path}/eligibility`]) {
          const response = await p.api.get(url, { token: tokens.admin });
          expectNoServerErrorAndProblem(response, { label: url });
        }
      }),
      { numRuns: 25 },
    );
  });
});
