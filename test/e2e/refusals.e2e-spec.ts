import { signToken } from './support/tokens';
import type { ApiResponse } from './support/http';
import { Platform, expectProblem } from './support/platform';
import { uniqueId } from './support/orders';
import { startService, stopService, type StartedService } from './support/service';

jest.setTimeout(60_000);

// Every refusal class of API.md with its status and problem members, in the
// order the checks answer, and proof that a refused request appends nothing.

const MERCHANT = 'm-refusals';
const LINE = 'fashion';
const DAY = 24 * 3_600_000;

describe('refusals', () => {
  let started: StartedService;
  let p: Platform;

  beforeAll(async () => {
    started = await startService();
    p = new Platform(started.api);
  }, 90_000);

  afterAll(() => stopService(started));

  const party = async () => {
    const buyerId = uniqueId('b');
    return { buyerId, buyer: await p.buyer(buyerId), merchant: await p.merchant(MERCHANT), spec: { buyerId, merchantId: MERCHANT, businessLine: LINE } };
  };

  /** A delivered order with a partial_refund case of 8 000 waiting for the merchant. */
  const pendingCase = async (lines = 1) => {
    const who = await party();
    const order = await p.order({ ...who.spec, lines: Array.from({ length: lines }, () => ({})) });
    const kase = await p.mustOpenCase(who.buyer, { orderId: order.orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 8_000 });
    return { ...who, orderId: order.orderId, caseId: kase.caseId as string, revision: kase.revision as number };
  };

  /** Sends a request that must be refused with `status`, and checks the case stream and the order stream did not move. */
  const refusedWithoutEffect = async (target: { caseId?: string; orderId: string }, status: number, send: () => Promise<ApiResponse>) => {
    const before = await p.storeSnapshot(target.caseId, target.orderId);
    const response = await send();
    const problem = expectProblem(response, status);
    expect(await p.storeSnapshot(target.caseId, target.orderId)).toEqual(before);
    return problem;
  };

  describe('401: the token, before anything else', () => {
    const badTokens: Array<[string, () => Promise<string | undefined>]> = [
      ['no token', async () => undefined],
      ['a malformed token', async () => 'not.a-jwt'],
      ['an expired token', () => signToken({ sub: 'u1', role: 'buyer' }, { expiresIn: -3600 })],
      ['a token signed with another secret', () => signToken({ sub: 'u1', role: 'buyer' }, { secret: 'another-secret-of-at-least-thirty-two-chars' })],
      ['a wrong issuer', () => signToken({ sub: 'u1', role: 'buyer' }, { issuer: 'someone-else' })],
      ['a wrong audience', () => signToken({ sub: 'u1', role: 'buyer' }, { audience: 'another-api' })],
      ['no exp', () => signToken({ sub: 'u1', role: 'buyer' }, { noExpiry: true })],
      ['no role', () => signToken({ sub: 'u1' } as never)],
      ['a merchant without merchantId', () => signToken({ sub: 'u1', role: 'merchant' })],
      ['an agent without businessLine', () => signToken({ sub: 'u1', role: 'agent' })],
      ['an unsigned token (alg none)', async () => {
        const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'u1', role: 'admin', iss: 'aftersales', aud: 'aftersales-api', exp: now + 600 })}.`;
      }],
    ];

    it.each(badTokens)('%s with a bad body on POST /v1/cases → 401', async (_name, make) => {
      const { orderId, caseId } = await pendingCase();
      const token = await make();
      await refusedWithoutEffect({ caseId, orderId }, 401, () => p.api.post('/v1/cases', { orderId, kind: 42, unknown: true }, { token }));
      await refusedWithoutEffect({ caseId, orderId }, 401, () => p.api.post(`/v1/cases/${caseId}/approve`, { note: 7, extra: 1 }, { token }));
    });

    it('no token on a read → 401', async () => {
      const { caseId } = await pendingCase();
      expectProblem(await p.api.get(`/v1/cases/${caseId}`), 401);
      expectProblem(await p.api.get('/v1/orders/whatever'), 401);
    });
  });

  describe('403: a role that never uses the route, before the body is read', () => {
    it('a buyer calling approve with a bad body → 403', async () => {
      const { buyer, caseId, orderId } = await pendingCase();
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'approve', buyer, { note: { nested: true }, bogus: 1 }));
    });

    it('a merchant opening a case, an integration reading a case, a buyer putting an order → 403', async () => {
      const { merchant, caseId, orderId, buyer } = await pendingCase();
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.openCase(merchant, { orderId, kind: 'nonsense' } as never));
      expectProblem(await p.getCase(caseId, await p.integration()), 403);
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.api.put(`/v1/orders/${orderId}`, { junk: true }, { token: buyer }));
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'rule', merchant, { ruling: 'merchant', note: 'mine' }));
    });
  });

  describe('400: malformed or invalid requests, with errors per field', () => {
    const invalidRequests: Array<[string, (orderId: string) => unknown, string]> = [
      ['empty lines', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [] }), 'lines'],
      ['quantity 0', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 0 }] }), 'lines'],
      ['fractional quantity', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1.5 }] }), 'lines'],
      ['duplicate line ids', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }, { lineId: 'L1', quantity: 1 }] }), 'lines'],
      ['an unknown kind', (orderId) => ({ orderId, kind: 'teleport', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }), 'kind'],
      ['an unknown reason', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'bored', lines: [{ lineId: 'L1', quantity: 1 }] }), 'reason'],
      ['an unknown field', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], discount: 5 }), 'discount'],
      ['an amount as a string', (orderId) => ({ orderId, kind: 'partial_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: '100' }), 'requestedAmount'],
      ['a negative amount', (orderId) => ({ orderId, kind: 'partial_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: -1 }), 'requestedAmount'],
      ['a zero requested amount', (orderId) => ({ orderId, kind: 'partial_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 0 }), 'requestedAmount'],
      ['an amount for a kind without money', (orderId) => ({ orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 100 }), 'requestedAmount'],
      ['a description over 2000 characters', (orderId) => ({ orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], description: 'x'.repeat(2001) }), 'description'],
      ['ten evidence URLs', (orderId) => ({ orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], evidence: Array.from({ length: 10 }, (_, i) => `https://img.example.com/${i}.jpg`) }), 'evidence'],
      ['a non-http evidence URL', (orderId) => ({ orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], evidence: ['ftp://files.example.com/a.jpg'] }), 'evidence'],
      ['an unknown channel', (orderId) => ({ orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], channel: 'fax' }), 'channel'],
      ['an orderId outside the id alphabet', () => ({ orderId: 'o/../1', kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }), 'orderId'],
    ];

    it.each(invalidRequests)('POST /v1/cases with %s → 400 naming the field', async (_name, body, field) => {
      const { buyer, spec } = await party();
      const { orderId } = await p.order(spec);
      const problem = await refusedWithoutEffect({ orderId }, 400, () => p.api.post('/v1/cases', body(orderId), { token: buyer }));
      expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: expect.stringContaining(field), message: expect.any(String) })]));
    });

    it('order routes: a time without a zone, a line paidAmount as a string, an unknown field → 400', async () => {
      const { spec } = await party();
      const placed = await p.order(spec, 'placed');
      const token = await p.integration();
      const target = { orderId: placed.orderId };
      await refusedWithoutEffect(target, 400, () => p.api.post(`/v1/orders/${placed.orderId}/shipped`, { carrier: 'SF', trackingNumber: 'SF1', shippedAt: '2025-01-01T10:00:00' }, { token }));
      await refusedWithoutEffect(target, 400, () => p.api.post(`/v1/orders/${placed.orderId}/shipped`, { carrier: 'SF', trackingNumber: 'SF1', shippedAt: 'yesterday' }, { token }));
      await refusedWithoutEffect(target, 400, () => p.api.post(`/v1/orders/${placed.orderId}/shipped`, { carrier: 'SF', trackingNumber: 'SF1', shippedAt: new Date().toISOString(), eta: 1 }, { token }));
      const newId = uniqueId('o');
      const bad = { ...placed.snapshot, lines: placed.snapshot.lines.map((l) => ({ ...l, paidAmount: String(l.paidAmount) })) };
      expectProblem(await p.api.put(`/v1/orders/${newId}`, bad, { token }), 400);
      expectProblem(await p.api.put(`/v1/orders/${newId}`, { ...placed.snapshot, placedAt: '2025-01-01 10:00' }, { token }), 400);
      expectProblem(await p.api.get(`/v1/orders/${newId}`, { token }), 404);
    });

    it('malformed JSON → 400', async () => {
      const { buyer, spec } = await party();
      const { orderId } = await p.order(spec);
      await refusedWithoutEffect({ orderId }, 400, () => p.api.request('POST', '/v1/cases', { token: buyer, raw: `{"orderId":"${orderId}",` }));
    });

    it('a bad body on an unknown case answers 400 before 404; a bad path id → 400', async () => {
      const { merchant } = await party();
      expectProblem(await p.act('no-such-case', 'reject', merchant, { reason: 12 }), 400);
      expectProblem(await p.act('bad$id', 'reject', merchant, { reason: 'fine' }), 400);
      expectProblem(await p.getCase('x'.repeat(65), merchant), 400);
    });

    it('command bodies: counter-offer amount 0, rate score 6, confirm-receipt without inspection, unknown fields → 400', async () => {
      const { merchant, buyer, caseId, orderId } = await pendingCase();
      await refusedWithoutEffect({ caseId, orderId }, 400, () => p.act(caseId, 'counter-offer', merchant, { amount: 0 }));
      await refusedWithoutEffect({ caseId, orderId }, 400, () => p.act(caseId, 'counter-offer', merchant, { amount: 2.5 }));
      await refusedWithoutEffect({ caseId, orderId }, 400, () => p.act(caseId, 'approve', merchant, { note: 'ok', approveTwice: true }));
      await refusedWithoutEffect({ caseId, orderId }, 400, () => p.act(caseId, 'rate', buyer, { score: 6 }));
      await refusedWithoutEffect({ caseId, orderId }, 400, () => p.act(caseId, 'confirm-receipt', merchant, { disposition: 'restock' }));
      await refusedWithoutEffect({ caseId, orderId }, 400, () => p.act(caseId, 'withdraw', buyer, { why: 'no' }));
    });

    it('an invalid If-Match header → 400', async () => {
      const { merchant, caseId, orderId } = await pendingCase();
      for (const ifMatch of ['abc', '"x"', '"-1"', '"1.5"']) {
        await refusedWithoutEffect({ caseId, orderId }, 400, () => p.act(caseId, 'approve', merchant, {}, { ifMatch }));
      }
    });
  });

  describe('404: unknown, or not the caller\'s to see, never confirming existence', () => {
    it('a foreign buyer gets exactly what an unknown case gets', async () => {
      const { caseId, orderId } = await pendingCase();
      const stranger = await p.buyer(uniqueId('b'));
      const foreign = await p.getCase(caseId, stranger);
      const unknown = await p.getCase('c-does-not-exist', stranger);
      const a = expectProblem(foreign, 404);
      const b = expectProblem(unknown, 404);
      expect({ ...a, detail: a.detail.replace(caseId, '<id>') }).toEqual({ ...b, detail: b.detail.replace('c-does-not-exist', '<id>') });
      await refusedWithoutEffect({ caseId, orderId }, 404, () => p.act(caseId, 'withdraw', stranger));
      await refusedWithoutEffect({ caseId, orderId }, 404, () => p.act(caseId, 'withdraw', stranger, {}, { ifMatch: '"999"' }));
    });

    it('a foreign merchant or another business line\'s agent → 404; a foreign buyer\'s request on the order → 404', async () => {
      const { caseId, orderId } = await pendingCase(2);
      await refusedWithoutEffect({ caseId, orderId }, 404, async () => p.act(caseId, 'approve', await p.merchant('m-other')));
      await refusedWithoutEffect({ caseId, orderId }, 404, async () => p.act(caseId, 'note', await p.agent('agent-x', 'groceries', 100_000), { text: 'hello' }));
      const stranger = await p.buyer(uniqueId('b'));
      await refusedWithoutEffect({ caseId, orderId }, 404, () => p.openCase(stranger, { orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L2', quantity: 1 }] }));
      expectProblem(await p.api.get(`/v1/orders/${orderId}`, { token: stranger }), 404);
      expectProblem(await p.api.get('/v1/orders/o-unknown-order', { token: await p.integration() }), 404);
    });
  });

  describe('403 object level: holds and authority', () => {
    it('a case another agent holds → 403 for a second agent of the line (who still sees it); another line → 404 first', async () => {
      const { caseId, orderId } = await pendingCase();
      const holder = await p.agent('agent-holder', LINE, 100_000);
      const other = await p.agent('agent-other', LINE, 100_000);
      await p.mustAct(caseId, 'claim', holder);

      expect((await p.getCase(caseId, other)).status).toBe(200);
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'approve', other));
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'note', other, { text: 'mine now' }));
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'release', other));
      // Object level answers before If-Match.
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'note', other, { text: 'stale' }, { ifMatch: '"0"' }));
      await refusedWithoutEffect({ caseId, orderId }, 404, async () => p.act(caseId, 'note', await p.agent('agent-far', 'groceries', 100_000), { text: 'x' }));
    });

    it('an amount above the agent\'s authorityLimit → 403 (approve and compensate), even when it also breaks the cap', async () => {
      const { caseId, orderId } = await pendingCase();
      const junior = await p.agent('agent-junior', LINE, 1_000);
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'compensate', junior, { amount: 1_500, form: 'coupon' }));
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'compensate', junior, { amount: 50_000, form: 'cash' }));
      // The case asks for 8 000: above this agent's limit.
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'approve', junior));
      const noLimit = await p.agent('agent-nolimit', LINE);
      await refusedWithoutEffect({ caseId, orderId }, 403, () => p.act(caseId, 'compensate', noLimit, { amount: 1, form: 'balance' }));
    });
  });

  describe('412: If-Match', () => {
    it('a stale If-Match → 412, before 409; the current one is accepted', async () => {
      const { buyer, merchant, caseId, orderId, revision } = await pendingCase();
      await p.mustAct(caseId, 'reject', merchant, { reason: 'Not as claimed' });
      await refusedWithoutEffect({ caseId, orderId }, 412, () => p.act(caseId, 'approve', merchant, {}, { ifMatch: `"${revision}"` }));
      // Without If-Match the same approve is simply not allowed now.
      const problem = await refusedWithoutEffect({ caseId, orderId }, 409, () => p.act(caseId, 'approve', merchant));
      expect(problem.allowedActions).toEqual([]);

      const current = await p.getCase(caseId, buyer);
      const escalated = await p.act(caseId, 'escalate', buyer, { reason: 'Please review' }, { ifMatch: current.headers.etag });
      expect(escalated.status).toBe(200);
      expect(escalated.headers.etag).toBe(`"${escalated.body.revision}"`);
    });
  });

  describe('409: not in the caller\'s allowedActions now', () => {
    it('answers with the caller\'s allowedActions, the ones GET shows', async () => {
      const { buyer, merchant, caseId, orderId } = await pendingCase();
      const problem = await refusedWithoutEffect({ caseId, orderId }, 409, () => p.act(caseId, 'accept-offer', buyer));
      const seen = (await p.getCase(caseId, buyer)).body;
      expect(problem.allowedActions).toEqual(seen.allowedActions);
      expect(problem.allowedActions).toContain('withdraw');

      await p.mustAct(caseId, 'approve', merchant);
      const twice = await refusedWithoutEffect({ caseId, orderId }, 409, () => p.act(caseId, 'approve', merchant));
      expect(twice.allowedActions).toEqual((await p.getCase(caseId, merchant)).body.allowedActions);
      const arbitrator = await p.arbitrator('arb-1', LINE);
      await refusedWithoutEffect({ caseId, orderId }, 409, () => p.act(caseId, 'rule', arbitrator, { ruling: 'merchant', note: 'Not escalated' }));
    });

    it('409 answers before 422: an offer above the request on a case no longer pending', async () => {
      const { merchant, caseId, orderId } = await pendingCase();
      await p.mustAct(caseId, 'reject', merchant, { reason: 'No' });
      await refusedWithoutEffect({ caseId, orderId }, 409, () => p.act(caseId, 'counter-offer', merchant, { amount: 99_999 }));
    });

    it('rating a withdrawn case, rating twice, delivering an order not shipped → 409', async () => {
      const { buyer, caseId, orderId } = await pendingCase();
      await p.mustAct(caseId, 'withdraw', buyer);
      await refusedWithoutEffect({ caseId, orderId }, 409, () => p.act(caseId, 'rate', buyer, { score: 4 }));

      const { spec } = await party();
      const placed = await p.order(spec, 'placed');
      await refusedWithoutEffect({ orderId: placed.orderId }, 409, async () =>
        p.api.post(`/v1/orders/${placed.orderId}/delivered`, { deliveredAt: new Date().toISOString() }, { token: await p.integration() }),
      );
    });

    it('an amendment beyond the merchant\'s maxAmendments → 409', async () => {
      const merchantId = uniqueId('m');
      expect((await p.api.put(`/v1/policies/merchant-${merchantId}`, { maxAmendments: 1 }, { token: await p.admin() })).status).toBe(200);
      const buyerId = uniqueId('b');
      const buyer = await p.buyer(buyerId);
      const merchant = await p.merchant(merchantId);
      const { orderId } = await p.order({ buyerId, merchantId, businessLine: LINE });
      const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] });
      await p.mustAct(caseId, 'reject', merchant, { reason: 'No' });
      await p.mustAct(caseId, 'amend', buyer, { description: 'Please' });
      await p.mustAct(caseId, 'reject', merchant, { reason: 'Still no' });
      const problem = await refusedWithoutEffect({ caseId, orderId }, 409, () => p.act(caseId, 'amend', buyer, { description: 'Again' }));
      expect(problem.allowedActions).toEqual(expect.arrayContaining(['escalate', 'withdraw']));
      expect(problem.allowedActions).not.toContain('amend');
    });

    it('a different snapshot for a registered order → 409', async () => {
      const { spec } = await party();
      const order = await p.order(spec, 'placed');
      await refusedWithoutEffect({ orderId: order.orderId }, 409, async () =>
        p.api.put(`/v1/orders/${order.orderId}`, { ...order.snapshot, buyerTrustScore: 999 }, { token: await p.integration() }),
      );
    });
  });

  describe('422: business rules, with `rule`', () => {
    const requestRefused = async (rule: string, build: (orderId: string) => object, progress: 'placed' | 'shipped' | 'delivered' = 'delivered', deliveredAt?: string, lines?: object[]) => {
      const { buyer, spec } = await party();
      // An order delivered long ago was also placed and shipped before that.
      const earlier = (days: number) => deliveredAt && new Date(Date.parse(deliveredAt) - days * DAY).toISOString();
      const { orderId } = await p.order({ ...spec, lines: lines ?? [{}], placedAt: earlier(2) }, progress, { deliveredAt, shippedAt: earlier(1) });
      const problem = await refusedWithoutEffect({ orderId }, 422, () => p.api.post('/v1/cases', build(orderId), { token: buyer }));
      expect(problem.rule).toBe(rule);
    };

    it('amount above refundable', () =>
      requestRefused('amount_above_refundable', (orderId) => ({ orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 12_001 }), 'shipped'));

    it('kind not allowed now (exchange before delivery)', () =>
      requestRefused('kind_not_allowed_now', (orderId) => ({ orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }), 'shipped'));

    it('after-sales window passed (delivered 20 days ago)', () =>
      requestRefused('outside_after_sales_window', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }] }), 'delivered', new Date(Date.now() - 20 * DAY).toISOString()));

    it('no-reason return on a line that does not allow it', () =>
      requestRefused('no_reason_not_allowed', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'no_reason_7_days', lines: [{ lineId: 'L1', quantity: 1 }] }), 'delivered', undefined, [{ noReasonReturn: false }]));

    it('quantity above what is left', () =>
      requestRefused('quantity_above_remaining', (orderId) => ({ orderId, kind: 'return_and_refund', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 3 }] }), 'delivered', undefined, [{ quantity: 2, unitPrice: 1_000 }]));

    it('compensation above the cap', () =>
      requestRefused('compensation_cap_exceeded', (orderId) => ({ orderId, kind: 'compensation', reason: 'late_delivery', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 10_001 })));

    it('a line held by another active case', async () => {
      const { buyer, caseId, orderId } = await pendingCase();
      const problem = await refusedWithoutEffect({ caseId, orderId }, 422, () =>
        p.openCase(buyer, { orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }),
      );
      expect(problem.rule).toBe('line_held_by_active_case');
    });

    it('an offer not below the request; an agent payout over the cap within authority', async () => {
      const { merchant, caseId, orderId } = await pendingCase();
      const offer = await refusedWithoutEffect({ caseId, orderId }, 422, () => p.act(caseId, 'counter-offer', merchant, { amount: 8_000 }));
      expect(offer.rule).toBe('offer_not_below_requested');
      const senior = await p.agent('agent-senior', LINE, 1_000_000);
      // Outside the pool an agent works on the cases it holds.
      await p.mustAct(caseId, 'claim', senior, {});
      const cap = await refusedWithoutEffect({ caseId, orderId }, 422, () => p.act(caseId, 'compensate', senior, { amount: 10_001, form: 'cash' }));
      expect(cap.rule).toBe('compensation_cap_exceeded');
    });

    it('a ruling above the case\'s refundable', async () => {
      const { buyer, merchant, caseId, orderId } = await pendingCase();
      await p.mustAct(caseId, 'reject', merchant, { reason: 'No' });
      await p.mustAct(caseId, 'escalate', buyer, { reason: 'Please look' });
      const arbitrator = await p.arbitrator('arb-2', LINE);
      const problem = await refusedWithoutEffect({ caseId, orderId }, 422, () => p.act(caseId, 'rule', arbitrator, { ruling: 'buyer', refundAmount: 12_001, note: 'Too much' }));
      expect(problem.rule).toBe('amount_above_refundable');
      // A money kind ruled for the buyer names its amount.
      expect((await refusedWithoutEffect({ caseId, orderId }, 422, () => p.act(caseId, 'rule', arbitrator, { ruling: 'buyer', note: 'Pay' }))).rule).toEqual(expect.any(String));
    });
  });
});
