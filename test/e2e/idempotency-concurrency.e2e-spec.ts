import type { ApiResponse } from './support/http';
import { Platform, expectProblem } from './support/platform';
import { uniqueId } from './support/orders';
import { startService, stopService, type StartedService } from './support/service';

jest.setTimeout(90_000);

// Retries and races as clients cause them: replayed keys, stale ETags, many
// requests for the same line or the same money at once.

const MERCHANT = 'm-races';
const LINE = 'sports';

const statusesOf = (responses: ApiResponse[]) => responses.map((r) => r.status).sort((a, b) => a - b);

describe('idempotency and concurrency', () => {
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

  const pendingCase = async (lines = 1) => {
    const who = await party();
    const { orderId } = await p.order({ ...who.spec, lines: Array.from({ length: lines }, () => ({})) });
    const kase = await p.mustOpenCase(who.buyer, { orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 8_000 });
    return { ...who, orderId, caseId: kase.caseId as string };
  };

  describe('Idempotency-Key', () => {
    it('the same key and body return the first 201 and body again and append nothing; another body → 422', async () => {
      const { buyer, spec } = await party();
      const { orderId } = await p.order({ ...spec, lines: [{}, {}] });
      const key = uniqueId('key');
      const request = { orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false };

      const first = await p.openCase(buyer, request, { idempotencyKey: key });
      expect(first.status).toBe(201);
      const before = await p.storeSnapshot(first.body.caseId, orderId);

      const again = await p.openCase(buyer, request, { idempotencyKey: key });
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(await p.storeSnapshot(first.body.caseId, orderId)).toEqual(before);

      const other = await p.openCase(buyer, { ...request, lines: [{ lineId: 'L2', quantity: 1 }] }, { idempotencyKey: key });
      expectProblem(other, 422);
      expect(await p.storeSnapshot(first.body.caseId, orderId)).toEqual(before);
      // L2 is still free: the refused body opened nothing.
      expect((await p.openCase(buyer, { ...request, lines: [{ lineId: 'L2', quantity: 1 }] })).status).toBe(201);
    });

    it('a command replayed with its key is decided once', async () => {
      const { merchant, caseId, orderId } = await pendingCase();
      const key = uniqueId('key');
      const first = await p.act(caseId, 'approve', merchant, { note: 'ok' }, { idempotencyKey: key });
      expect(first.status).toBe(200);
      const before = await p.storeSnapshot(caseId, orderId);
      const again = await p.act(caseId, 'approve', merchant, { note: 'ok' }, { idempotencyKey: key });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await p.storeSnapshot(caseId, orderId)).toEqual(before);
      expect((await p.eventTypes(caseId)).filter((t) => t === 'MerchantAgreed')).toHaveLength(1);
    });

    it('a refusal is replayed as it was, even once the command would succeed; a new key decides afresh', async () => {
      const { buyer, merchant, caseId } = await pendingCase();
      const key = uniqueId('key');
      const refused = await p.act(caseId, 'escalate', buyer, { reason: 'Too slow' }, { idempotencyKey: key });
      expectProblem(refused, 409);
      await p.mustAct(caseId, 'reject', merchant, { reason: 'No' });

      const replayed = await p.act(caseId, 'escalate', buyer, { reason: 'Too slow' }, { idempotencyKey: key });
      expect(replayed.status).toBe(409);
      expect(replayed.body).toEqual(refused.body);
      expect((await p.act(caseId, 'escalate', buyer, { reason: 'Too slow' }, { idempotencyKey: uniqueId('key') })).status).toBe(200);
    });

    it('a key is scoped to its caller, method and path', async () => {
      const a = await pendingCase();
      const b = await pendingCase();
      const key = uniqueId('shared');
      expect((await p.act(a.caseId, 'withdraw', a.buyer, {}, { idempotencyKey: key })).status).toBe(200);
      // Another buyer, another path: the key means nothing there.
      const other = await p.act(b.caseId, 'withdraw', b.buyer, {}, { idempotencyKey: key });
      expect(other.status).toBe(200);
      expect(other.body.caseId).toBe(b.caseId);
    });

    it('PUT /v1/orders replays its first 201 for the same key', async () => {
      const { spec } = await party();
      const order = await p.order(spec, 'placed');
      const integration = await p.integration();
      const orderId = uniqueId('o');
      const key = uniqueId('key');
      const first = await p.api.put(`/v1/orders/${orderId}`, order.snapshot, { token: integration, idempotencyKey: key });
      expect(first.status).toBe(201);
      const again = await p.api.put(`/v1/orders/${orderId}`, order.snapshot, { token: integration, idempotencyKey: key });
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      // Without the key, the same snapshot is a plain no-op.
      expect((await p.api.put(`/v1/orders/${orderId}`, order.snapshot, { token: integration })).status).toBe(200);
    });

    it('many identical requests with one key at once: one decision, every answer the same or "still in progress"', async () => {
      const { merchant, caseId } = await pendingCase();
      const key = uniqueId('key');
      const responses = await Promise.all(Array.from({ length: 10 }, () => p.act(caseId, 'approve', merchant, {}, { idempotencyKey: key })));
      for (const r of responses) expect([200, 409]).toContain(r.status);
      const ok = responses.filter((r) => r.status === 200);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      for (const r of ok) expect(r.body).toEqual(ok[0].body);
      for (const r of responses.filter((r) => r.status === 409)) expectProblem(r, 409);
      expect((await p.eventTypes(caseId)).filter((t) => t === 'MerchantAgreed')).toHaveLength(1);
    });
  });

  describe('If-Match', () => {
    it('the ETag of a read is accepted once; the same ETag after a change → 412', async () => {
      const { buyer, merchant, caseId, orderId } = await pendingCase();
      const read = await p.getCase(caseId, merchant);
      expect(read.headers.etag).toBe(`"${read.body.revision}"`);

      const rejected = await p.act(caseId, 'reject', merchant, { reason: 'No' }, { ifMatch: read.headers.etag });
      expect(rejected.status).toBe(200);
      expect(rejected.body.revision).toBeGreaterThan(read.body.revision);
      expect(rejected.headers.etag).toBe(`"${rejected.body.revision}"`);

      const before = await p.storeSnapshot(caseId, orderId);
      expectProblem(await p.act(caseId, 'escalate', buyer, { reason: 'x' }, { ifMatch: read.headers.etag }), 412);
      expect(await p.storeSnapshot(caseId, orderId)).toEqual(before);
      expect((await p.act(caseId, 'escalate', buyer, { reason: 'x' }, { ifMatch: rejected.headers.etag })).status).toBe(200);
    });

    it('two different decisions racing on one ETag: one wins, the other gets 412', async () => {
      const { merchant, caseId } = await pendingCase();
      const etag = (await p.getCase(caseId, merchant)).headers.etag;
      const [reject, offer] = await Promise.all([
        p.act(caseId, 'reject', merchant, { reason: 'No' }, { ifMatch: etag }),
        p.act(caseId, 'counter-offer', merchant, { amount: 2_000 }, { ifMatch: etag }),
      ]);
      expect(statusesOf([reject, offer])).toEqual([200, 412]);
      const types = await p.eventTypes(caseId);
      expect(types.filter((t) => t === 'MerchantRejected' || t === 'MerchantCounterOffered')).toHaveLength(1);
    });
  });

  describe('races', () => {
    it('many requests for the same order line at once: exactly one 201, the rest 422 line_held_by_active_case', async () => {
      const { buyer, spec } = await party();
      const { orderId } = await p.order(spec);
      const before = (await p.readOrder(orderId)).revision;
      const responses = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          p.openCase(buyer, { orderId, kind: 'exchange', reason: 'changed_mind', description: `attempt ${i}`, lines: [{ lineId: 'L1', quantity: 1 }], pickup: false }),
        ),
      );
      const created = responses.filter((r) => r.status === 201);
      expect(created).toHaveLength(1);
      for (const r of responses.filter((r) => r.status !== 201)) expect(expectProblem(r, 422).rule).toBe('line_held_by_active_case');

      const eligibility = await p.api.get(`/v1/orders/${orderId}/eligibility`, { token: buyer });
      expect(eligibility.body.lines[0].activeCaseId).toBe(created[0].body.caseId);
      // One hold on the order stream, nothing from the losers.
      expect((await p.readOrder(orderId)).revision).toBe(before + 1);
    });

    it('approvals of many cases on one order at once: the ledger never exceeds what was paid and loses no reservation', async () => {
      const { buyer, merchant, spec } = await party();
      const lines = Array.from({ length: 8 }, () => ({ unitPrice: 5_000 }));
      const { orderId } = await p.order({ ...spec, lines });
      const caseIds: string[] = [];
      for (let i = 1; i <= lines.length; i += 1) {
        const kase = await p.mustOpenCase(buyer, { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: `L${i}`, quantity: 1 }] });
        caseIds.push(kase.caseId);
      }

      let racing = true;
      const samples: any[] = [];
      const sampler = (async () => {
        while (racing) samples.push((await p.readOrder(orderId)).refundLedger);
      })();
      const responses = await Promise.all(caseIds.map((caseId) => p.act(caseId, 'approve', merchant)));
      racing = false;
      await sampler;

      for (const r of responses) expect([200, 409]).toContain(r.status);
      expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
      for (const ledger of samples) expect(ledger.reserved + ledger.refunded).toBeLessThanOrEqual(ledger.paid);

      const cases = await Promise.all(caseIds.map(async (caseId) => (await p.getCase(caseId, merchant)).body));
      const issued = cases.flatMap((c) => c.refunds).reduce((sum: number, refund: any) => sum + refund.amount, 0);
      const final = (await p.readOrder(orderId)).refundLedger;
      expect(final).toEqual({ paid: 40_800, reserved: issued, refunded: 0, refundable: 40_800 - issued });
      expect(issued).toBe(5_000 * responses.filter((r) => r.status === 200).length);
    });

    it('identical commands on one case at once without If-Match: 200 or 409, never 500, one decision', async () => {
      const { merchant, caseId, orderId } = await pendingCase();
      const responses = await Promise.all(Array.from({ length: 12 }, () => p.act(caseId, 'approve', merchant)));
      for (const r of responses) expect([200, 409]).toContain(r.status);
      expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
      for (const r of responses.filter((r) => r.status === 409)) expectProblem(r, 409);

      const types = await p.eventTypes(caseId);
      expect(types.filter((t) => t === 'MerchantAgreed')).toHaveLength(1);
      expect(types.filter((t) => t === 'RefundIssued')).toHaveLength(1);
      expect((await p.readOrder(orderId)).refundLedger.reserved).toBe(8_000);
    });

    it('a claim race between agents: one holds the case, the others are told 403 or 409', async () => {
      const { caseId } = await pendingCase();
      const agents = await Promise.all(Array.from({ length: 6 }, (_, i) => p.agent(`agent-race-${i}`, LINE, 0)));
      const responses = await Promise.all(agents.map((agent) => p.act(caseId, 'claim', agent)));
      expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
      for (const r of responses.filter((r) => r.status !== 200)) expect([403, 409]).toContain(r.status);
      expect((await p.eventTypes(caseId)).filter((t) => t === 'CaseClaimed')).toHaveLength(1);
    });
  });

  describe('after a restart on the same data folder', () => {
    it('a recorded response is replayed and nothing is appended', async () => {
      const { buyer, spec } = await party();
      const { orderId } = await p.order(spec);
      const key = uniqueId('key');
      const request = { orderId, kind: 'reship', reason: 'missing_item', lines: [{ lineId: 'L1', quantity: 1 }] };
      const first = await p.openCase(buyer, request, { idempotencyKey: key });
      expect(first.status).toBe(201);
      const before = await p.storeSnapshot(first.body.caseId, orderId);

      const { dataDir } = started.service;
      expect((await started.service.stop('SIGTERM')).code).toBe(0);
      started = await startService({}, dataDir);
      p = new Platform(started.api);

      const replayed = await p.openCase(await p.buyer(spec.buyerId), request, { idempotencyKey: key });
      expect(replayed.status).toBe(201);
      expect(replayed.body).toEqual(first.body);
      expect(await p.storeSnapshot(first.body.caseId, orderId)).toEqual(before);
      expectProblem(await p.openCase(await p.buyer(spec.buyerId), { ...request, reason: 'wrong_item' }, { idempotencyKey: key }), 422);
    });
  });
});
