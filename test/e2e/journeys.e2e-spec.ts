import { Platform, expectProblem, expectSubsequence } from './support/platform';
import { buildOrder, uniqueId } from './support/orders';
import { startService, stopService, type StartedService } from './support/service';
import { BUYER_LABELS, ISO_WITH_ZONE, expectCaseResponse, msBetween } from './support/shapes';

jest.setTimeout(60_000);

// One journey per kind, as far as commands alone take a case (no payment or
// logistics callbacks are sent here), checked the way each party sees it.

const MERCHANT = 'm-journeys';
const LINE = 'home';
const HOUR = 3_600_000;

describe('journeys', () => {
  let started: StartedService;
  let p: Platform;

  beforeAll(async () => {
    // Urging is allowed at once here, but only once an hour, so both sides of the rule show.
    started = await startService({ POLICY_URGE_MIN_WAIT: 'PT0S', POLICY_URGE_COOLDOWN: 'PT1H' });
    p = new Platform(started.api);
  }, 90_000);

  afterAll(() => stopService(started));

  const party = async () => {
    const buyerId = uniqueId('b');
    return {
      buyerId,
      buyer: await p.buyer(buyerId),
      merchant: await p.merchant(MERCHANT),
      spec: { buyerId, merchantId: MERCHANT, businessLine: LINE },
    };
  };

  it('registers an order: 201 when new, 200 for the same snapshot, with status, times and the refund ledger', async () => {
    const { spec } = await party();
    const order = await p.order({ ...spec, lines: [{ quantity: 2, unitPrice: 5_000 }, { unitPrice: 3_000 }], shippingFee: 600 }, 'placed');
    const token = await p.integration();
    const again = await p.api.put(`/v1/orders/${order.orderId}`, order.snapshot, { token });
    expect(again.status).toBe(200);
    // The same snapshot with its members in another order is still the same snapshot.
    const reordered = Object.fromEntries(Object.entries(order.snapshot).reverse());
    expect((await p.api.put(`/v1/orders/${order.orderId}`, reordered, { token })).status).toBe(200);

    let view = await p.readOrder(order.orderId);
    expect(view).toMatchObject({
      orderId: order.orderId,
      buyerId: spec.buyerId,
      merchantId: MERCHANT,
      paidAmount: 13_600,
      shippingFee: 600,
      status: 'placed',
      refundLedger: { paid: 13_600, reserved: 0, refunded: 0, refundable: 13_600 },
    });
    expect(view.lines).toHaveLength(2);
    expect(Number.isInteger(view.revision)).toBe(true);

    const shippedAt = new Date(Date.now() - 5 * HOUR).toISOString();
    const shipped = await p.api.post(`/v1/orders/${order.orderId}/shipped`, { carrier: 'SF', trackingNumber: 'SF1', shippedAt }, { token });
    expect(shipped.status).toBe(200);
    const deliveredAt = new Date(Date.now() - HOUR).toISOString();
    expect((await p.api.post(`/v1/orders/${order.orderId}/delivered`, { deliveredAt }, { token })).status).toBe(200);

    const before = view.revision;
    view = await p.readOrder(order.orderId);
    expect(view.status).toBe('delivered');
    expect(Date.parse(view.shippedAt)).toBe(Date.parse(shippedAt));
    expect(Date.parse(view.deliveredAt)).toBe(Date.parse(deliveredAt));
    expect(view.revision).toBeGreaterThan(before);
  });

  it('accepts values at the limits: 64-character ids, 2000 characters of text, 9 evidence URLs, times with an offset', async () => {
    const { buyer, spec } = await party();
    const token = await p.integration();
    const orderId = `${uniqueId('o')}${'x'.repeat(64)}`.slice(0, 64);
    expect(orderId).toHaveLength(64);
    const lineId = 'L'.repeat(64);
    const snapshot = { ...buildOrder({ ...spec, lines: [{ lineId }] }), placedAt: new Date(Date.now() - 72 * HOUR).toISOString().replace('Z', '+00:00') };
    expect((await p.api.put(`/v1/orders/${orderId}`, snapshot, { token })).status).toBe(201);
    // 48 hours ago, written as Beijing time.
    const shippedAt = new Date(Date.now() - 48 * HOUR + 8 * HOUR).toISOString().replace(/\.\d+Z$/, '+08:00');
    expect((await p.api.post(`/v1/orders/${orderId}/shipped`, { carrier: 'SF', trackingNumber: 'SF-LIMITS', shippedAt }, { token })).status).toBe(200);
    expect((await p.api.post(`/v1/orders/${orderId}/delivered`, { deliveredAt: new Date(Date.now() - HOUR).toISOString() }, { token })).status).toBe(200);

    const opened = await p.openCase(buyer, {
      orderId,
      kind: 'exchange',
      reason: 'changed_mind',
      description: '说'.repeat(2000),
      lines: [{ lineId, quantity: 1 }],
      evidence: Array.from({ length: 9 }, (_, i) => `https://img.example.com/${i}.jpg`),
      channel: 'phone',
      pickup: false,
    });
    expect(opened.status).toBe(201);
    expect((await p.events(opened.body.caseId))[0].metadata.channel).toBe('phone');
  });

  it('refund_only before shipment is approved by refund_before_shipment in the request itself', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await p.order(spec, 'placed');

    const response = await p.openCase(buyer, { orderId, kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] });
    expect(response.status).toBe(201);
    const kase = expectCaseResponse(response, 'buyer');
    expect(kase).toMatchObject({
      orderId,
      buyerId: spec.buyerId,
      merchantId: MERCHANT,
      businessLine: LINE,
      kind: 'refund_only',
      reason: 'changed_mind',
      responsible: 'buyer',
      department: 'none',
      status: 'refunding',
      statusLabel: 'Refund in progress (退款中)',
      requestedAmount: 12_000,
      refunded: 0,
      currency: 'CNY',
    });
    expect(kase.refunds).toEqual([expect.objectContaining({ amount: 12_000, purpose: 'refund', express: false, status: 'pending' })]);
    expect(kase.lines).toEqual([expect.objectContaining({ lineId: 'L1', quantity: 1, productId: 'p-1', category: 'apparel', supplierId: 's-1' })]);

    const events = await p.events(kase.caseId);
    const types = events.map((e) => e.type);
    expectSubsequence(types, ['ReturnRequested', 'AutoReviewApproved', 'RefundIssued']);
    expect(types).not.toContain('MerchantAgreed');
    const auto = events.find((e) => e.type === 'AutoReviewApproved');
    expect(auto.data).toEqual({ rule: 'refund_before_shipment', amount: 12_000 });
    expect(auto.metadata.actor.role).toBe('system');
    expect(events[0].metadata.actor).toEqual({ role: 'buyer', id: spec.buyerId });
    expect(events[0].metadata.channel).toBe('app');

    const order = await p.readOrder(orderId);
    expect(order.refundLedger).toEqual({ paid: 12_800, reserved: 12_000, refunded: 0, refundable: 800 });
  });

  it('a small return from a trusted buyer is approved by small_amount_trusted_buyer and waits for the parcel at once', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await p.order({ ...spec, buyerTrustScore: 650, lines: [{ unitPrice: 4_000 }] });
    const response = await p.openCase(buyer, { orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false });
    expect(response.status).toBe(201);
    const kase = expectCaseResponse(response, 'buyer');
    expect(kase).toMatchObject({ status: 'awaiting_return', statusLabel: 'Please return the item (待退货)', requestedAmount: 4_000 });
    expect(kase.deadlines.buyerShipBack).toMatch(ISO_WITH_ZONE);
    const events = await p.events(kase.caseId);
    expect(events.map((e) => e.type)).not.toContain('MerchantAgreed');
    expect(events.find((e) => e.type === 'AutoReviewApproved').data).toEqual({ rule: 'small_amount_trusted_buyer', amount: 4_000 });
  });

  it('return_and_refund: approve, ship-return, confirm-receipt passed → refunding, with labels, deadlines and ETags on the way', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order({ ...spec, lines: [{ quantity: 2, unitPrice: 6_000 }] });

    const opened = await p.openCase(buyer, {
      orderId,
      kind: 'return_and_refund',
      reason: 'quality_defect',
      description: 'Seam split after one wash',
      lines: [{ lineId: 'L1', quantity: 1 }],
      evidence: ['https://img.example.com/seam.jpg'],
      pickup: false,
    });
    expect(opened.status).toBe(201);
    let kase = expectCaseResponse(opened, 'buyer');
    const caseId = kase.caseId;
    expect(kase).toMatchObject({ status: 'pending_merchant', statusLabel: 'Waiting for the seller (待商家处理)', requestedAmount: 6_000, responsible: 'supplier', department: 'quality' });
    expect(Math.abs(msBetween(kase.requestedAt, kase.deadlines.merchantResponse) - 48 * HOUR)).toBeLessThan(60_000);
    expect(kase.allowedActions).toContain('withdraw');
    expect(kase.allowedActions).not.toContain('approve');
    expect(opened.headers.location ?? `/v1/cases/${caseId}`).toContain(caseId);

    const merchantView = await p.getCase(caseId, merchant);
    expect(merchantView.status).toBe(200);
    const seenByMerchant = expectCaseResponse(merchantView, 'other', false);
    expect(seenByMerchant.statusLabel).toBe('pending_merchant');
    expect(seenByMerchant.allowedActions).toEqual(expect.arrayContaining(['approve', 'reject', 'counter-offer']));
    expect(seenByMerchant.revision).toBe(kase.revision);

    const approved = await p.act(caseId, 'approve', merchant, { note: 'Sorry about that' });
    expect(approved.status).toBe(200);
    kase = expectCaseResponse(approved, 'other');
    expect(kase).toMatchObject({ status: 'awaiting_return', statusLabel: 'awaiting_return', agreedAmount: 6_000 });
    expect(kase.revision).toBeGreaterThan(seenByMerchant.revision);
    expect(kase.deadlines.buyerShipBack).toMatch(ISO_WITH_ZONE);
    expect(kase.deadlines.merchantResponse).toBeUndefined();

    const shipped = await p.act(caseId, 'ship-return', buyer, { carrier: 'YTO', trackingNumber: 'YT123456' });
    expect(shipped.status).toBe(200);
    kase = expectCaseResponse(shipped, 'buyer');
    expect(kase).toMatchObject({ status: 'return_in_transit', statusLabel: 'Return on its way (退货中)' });
    expect(kase.returnParcel).toMatchObject({ carrier: 'YTO', trackingNumber: 'YT123456', shippedAt: expect.stringMatching(ISO_WITH_ZONE) });
    expect(kase.deadlines.returnTransit).toMatch(ISO_WITH_ZONE);

    const received = await p.act(caseId, 'confirm-receipt', merchant, { inspection: 'passed', disposition: 'restock' });
    expect(received.status).toBe(200);
    kase = expectCaseResponse(received, 'other');
    expect(kase.status).toBe('refunding');
    expect(kase.refunds).toEqual([expect.objectContaining({ amount: 6_000, purpose: 'refund', express: false, status: 'pending' })]);
    expect((await p.readOrder(orderId)).refundLedger).toEqual({ paid: 12_800, reserved: 6_000, refunded: 0, refundable: 6_800 });

    const events = await p.events(caseId);
    expectSubsequence(events.map((e) => e.type), ['ReturnRequested', 'DeadlineSet', 'MerchantAgreed', 'DeadlineSet', 'ReturnShipped', 'ReturnReceived', 'RefundIssued']);
    expect(events.find((e) => e.type === 'MerchantAgreed').data).toEqual({ amount: 6_000, auto: false });
    expect(events.find((e) => e.type === 'ReturnReceived').data).toMatchObject({ inspection: 'passed', disposition: 'restock', auto: false });
    // The stream in revision order, each event with API.md's members.
    events.forEach((event, index) => {
      expect(event).toEqual(
        expect.objectContaining({ id: expect.any(String), type: expect.any(String), data: expect.any(Object), metadata: expect.any(Object), revision: expect.any(Number), position: expect.any(Number), recordedAt: expect.stringMatching(ISO_WITH_ZONE) }),
      );
      if (index > 0) {
        expect(event.revision).toBe(events[index - 1].revision + 1);
        expect(event.position).toBeGreaterThan(events[index - 1].position);
      }
    });
    expect(events.at(-1).revision).toBe(kase.revision);
    expect(kase.position).toBe(events.at(-1).position);
  });

  it('exchange: approve, ship-return, confirm-receipt, ship-replacement, confirm-delivery → completed, then rated once', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order(spec);
    const { caseId, status } = await p.mustOpenCase(buyer, { orderId, kind: 'exchange', reason: 'changed_mind', description: 'Size M instead of L', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false });
    expect(status).toBe('pending_merchant');

    expect((await p.mustAct(caseId, 'approve', merchant)).status).toBe('awaiting_return');
    expect((await p.mustAct(caseId, 'ship-return', buyer, { carrier: 'ZTO', trackingNumber: 'ZT1' })).status).toBe('return_in_transit');
    const received = await p.mustAct(caseId, 'confirm-receipt', merchant, { inspection: 'passed' });
    expect(received.status).toBe('awaiting_replacement');
    expect(received.deadlines.merchantShipment).toMatch(ISO_WITH_ZONE);
    const sent = await p.mustAct(caseId, 'ship-replacement', merchant, { carrier: 'SF', trackingNumber: 'SF-REPL-1' });
    expect(sent.status).toBe('replacement_in_transit');
    expect(sent.replacementParcel).toMatchObject({ carrier: 'SF', trackingNumber: 'SF-REPL-1' });

    const done = await p.act(caseId, 'confirm-delivery', buyer, {});
    expect(done.status).toBe(200);
    const completed = expectCaseResponse(done, 'buyer');
    expect(completed).toMatchObject({ status: 'completed', statusLabel: 'Done (售后完成)', refunds: [], requestedAmount: 0 });
    expect(completed.allowedActions).toContain('rate');

    const rated = await p.mustAct(caseId, 'rate', buyer, { score: 5, nps: 9, comment: 'Quick swap' });
    expect(rated.allowedActions).not.toContain('rate');
    const types = await p.eventTypes(caseId);
    expectSubsequence(types, ['ReturnRequested', 'MerchantAgreed', 'ReturnShipped', 'ReturnReceived', 'ReplacementShipped', 'CaseCompleted', 'SatisfactionRated']);
    expect(types).not.toContain('RefundIssued');
    expect((await p.readOrder(orderId)).refundLedger.reserved).toBe(0);
  });

  it('repair: approve, ship-return, confirm-receipt → in_repair, declare-unrepairable → refunding the lines in full', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order({ ...spec, lines: [{ unitPrice: 20_000 }] });
    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'repair', reason: 'quality_defect', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false });

    await p.mustAct(caseId, 'approve', merchant);
    await p.mustAct(caseId, 'ship-return', buyer, { carrier: 'EMS', trackingNumber: 'EM1' });
    const inRepair = await p.mustAct(caseId, 'confirm-receipt', merchant, { inspection: 'passed', note: 'Board fault' });
    expect(inRepair.status).toBe('in_repair');
    const buyerView = expectCaseResponse(await p.getCase(caseId, buyer), 'buyer', false);
    expect(buyerView.statusLabel).toBe('Being repaired (维修中)');

    const declared = await p.mustAct(caseId, 'declare-unrepairable', merchant, { note: 'No spare parts' });
    expect(declared.status).toBe('refunding');
    expect(declared.refunds).toEqual([expect.objectContaining({ amount: 20_000, purpose: 'refund', status: 'pending' })]);
    expectSubsequence(await p.eventTypes(caseId), ['ReturnReceived', 'RepairDeclaredUnrepairable', 'RefundIssued']);
    expect((await p.readOrder(orderId)).refundLedger).toMatchObject({ reserved: 20_000, refunded: 0, refundable: 800 });
  });

  it('reship: approve → awaiting_replacement, ship-replacement, confirm-delivery → completed', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order(spec);
    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'reship', reason: 'missing_item', lines: [{ lineId: 'L1', quantity: 1 }] });

    const approved = await p.mustAct(caseId, 'approve', merchant);
    expect(approved.status).toBe('awaiting_replacement');
    expect(Math.abs(msBetween(approved.updatedAt, approved.deadlines.merchantShipment) - 72 * HOUR)).toBeLessThan(60_000);
    expect((await p.mustAct(caseId, 'ship-replacement', merchant, { carrier: 'SF', trackingNumber: 'SF-RE-9' })).status).toBe('replacement_in_transit');
    const done = await p.mustAct(caseId, 'confirm-delivery', buyer);
    expect(done).toMatchObject({ status: 'completed', statusLabel: BUYER_LABELS.completed });
    expectSubsequence(await p.eventTypes(caseId), ['ReturnRequested', 'MerchantAgreed', 'ReplacementShipped', 'CaseCompleted']);
  });

  it('partial_refund: counter-offer → negotiating, accept-offer → refunding the offer', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order(spec);
    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 8_000 });

    const offered = await p.mustAct(caseId, 'counter-offer', merchant, { amount: 3_000, note: 'Colour differs slightly' });
    expect(offered.status).toBe('negotiating');
    const buyerView = expectCaseResponse(await p.getCase(caseId, buyer), 'buyer', false);
    expect(buyerView.statusLabel).toBe('Seller made an offer (协商中)');
    expect(buyerView.allowedActions).toEqual(expect.arrayContaining(['accept-offer', 'decline-offer', 'withdraw']));
    expect(buyerView.deadlines.buyerOfferResponse).toMatch(ISO_WITH_ZONE);

    const accepted = await p.mustAct(caseId, 'accept-offer', buyer);
    expect(accepted).toMatchObject({ status: 'refunding', agreedAmount: 3_000 });
    expect(accepted.refunds).toEqual([expect.objectContaining({ amount: 3_000, purpose: 'refund' })]);
    const events = await p.events(caseId);
    expectSubsequence(events.map((e) => e.type), ['ReturnRequested', 'MerchantCounterOffered', 'OfferAccepted', 'RefundIssued']);
    expect(events.find((e) => e.type === 'OfferAccepted').data).toEqual({ amount: 3_000 });
    expect((await p.readOrder(orderId)).refundLedger).toEqual({ paid: 12_800, reserved: 3_000, refunded: 0, refundable: 9_800 });
  });

  it('compensation within the cap: approve → refunding with a payout that is not reserved on the order', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order(spec);
    const opened = await p.mustOpenCase(buyer, { orderId, kind: 'compensation', reason: 'late_delivery', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 2_000 });
    expect(opened).toMatchObject({ status: 'pending_merchant', requestedAmount: 2_000, responsible: 'logistics', department: 'logistics' });

    const approved = await p.mustAct(opened.caseId, 'approve', merchant);
    expect(approved.status).toBe('refunding');
    expect(approved.refunds).toEqual([expect.objectContaining({ amount: 2_000, purpose: 'compensation' })]);
    expect((await p.readOrder(orderId)).refundLedger).toMatchObject({ reserved: 0, refundable: 12_800 });
  });

  it('reject, amend, reject, escalate, then the arbitrator rules for the buyer with a refundAmount', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order(spec);
    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'partial_refund', reason: 'not_as_described', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 6_000 });

    const rejected = await p.mustAct(caseId, 'reject', merchant, { reason: 'Matches the listing photos' });
    expect(rejected.status).toBe('rejected');
    const buyerView = expectCaseResponse(await p.getCase(caseId, buyer), 'buyer', false);
    expect(buyerView.statusLabel).toBe('Seller declined (商家已拒绝)');
    expect(buyerView.allowedActions).toEqual(expect.arrayContaining(['amend', 'escalate', 'withdraw']));
    expect(buyerView.deadlines.buyerAppeal).toMatch(ISO_WITH_ZONE);

    const amended = await p.mustAct(caseId, 'amend', buyer, { description: 'See the close-up', requestedAmount: 5_500, evidence: ['https://img.example.com/close-up.jpg'] });
    expect(amended).toMatchObject({ status: 'pending_merchant', requestedAmount: 5_500 });
    expect(amended.deadlines.merchantResponse).toMatch(ISO_WITH_ZONE);
    await p.mustAct(caseId, 'reject', merchant, { reason: 'Still matches the listing' });
    const escalated = await p.mustAct(caseId, 'escalate', buyer, { reason: 'The seller ignores the photos' });
    expect(escalated.status).toBe('escalated');
    expect(escalated.deadlines.platformRulingSla).toMatch(ISO_WITH_ZONE);

    const arbitrator = await p.arbitrator('arb-1', LINE);
    const arbitratorView = expectCaseResponse(await p.getCase(caseId, arbitrator), 'other', false);
    expect(arbitratorView.allowedActions).toContain('rule');
    const ruled = await p.act(caseId, 'rule', arbitrator, { ruling: 'buyer', refundAmount: 4_000, note: 'Visible defect; partial refund is fair' });
    expect(ruled.status).toBe(200);
    expect(expectCaseResponse(ruled, 'other')).toMatchObject({ status: 'refunding' });
    expect(ruled.body.refunds).toEqual([expect.objectContaining({ amount: 4_000, purpose: 'refund' })]);

    const events = await p.events(caseId);
    expectSubsequence(events.map((e) => e.type), ['ReturnRequested', 'MerchantRejected', 'CaseAmended', 'MerchantRejected', 'CaseEscalated', 'ArbitrationRuled', 'RefundIssued']);
    expect(events.find((e) => e.type === 'CaseAmended').data).toMatchObject({ requestedAmount: 5_500, amendment: 1 });
    expect(events.find((e) => e.type === 'ArbitrationRuled').data).toMatchObject({ ruling: 'buyer', refundAmount: 4_000, returnRequired: false });
    expect(events.find((e) => e.type === 'ArbitrationRuled').metadata.actor).toEqual({ role: 'arbitrator', id: 'arb-1' });
    expect((await p.readOrder(orderId)).refundLedger.reserved).toBe(4_000);
  });

  it('a ruling for the merchant closes the case and frees its lines', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order(spec);
    const request = { orderId, kind: 'return_and_refund', reason: 'not_as_described', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false };
    const { caseId } = await p.mustOpenCase(buyer, request);
    await p.mustAct(caseId, 'reject', merchant, { reason: 'Used item' });
    await p.mustAct(caseId, 'escalate', buyer, { reason: 'It was new' });
    const ruled = await p.mustAct(caseId, 'rule', await p.arbitrator('arb-2', LINE), { ruling: 'merchant', note: 'Wear marks on the photos' });
    expect(ruled).toMatchObject({ status: 'closed', closedReason: 'ruled_for_merchant', refunds: [] });
    expectSubsequence(await p.eventTypes(caseId), ['CaseEscalated', 'ArbitrationRuled', 'CaseClosed']);
    expect((await p.readOrder(orderId)).refundLedger.reserved).toBe(0);
    expect((await p.openCase(buyer, request)).status).toBe(201);
  });

  it('urge raises the priority and records who is awaited; a second urge within the cool-down is not allowed', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order(spec);
    const { caseId, allowedActions, priority } = await p.mustOpenCase(buyer, { orderId, kind: 'reship', reason: 'missing_item', lines: [{ lineId: 'L1', quantity: 1 }] });
    expect(allowedActions).toContain('urge');
    expect(priority).toBe(0);

    const urged = await p.mustAct(caseId, 'urge', buyer);
    expect(urged).toMatchObject({ status: 'pending_merchant', priority: 1 });
    expect(urged.allowedActions).not.toContain('urge');
    expect((await p.events(caseId)).find((e) => e.type === 'CaseUrged').data).toEqual({ waitingFor: 'merchant', priority: 1 });
    expect((await p.act(caseId, 'urge', buyer)).status).toBe(409);
    expect((await p.getCase(caseId, merchant)).body.priority).toBe(1);
  });

  it('the events list pages with limit and an opaque cursor, in revision order', async () => {
    const { buyer, merchant, spec } = await party();
    const { orderId } = await p.order(spec);
    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'exchange', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false });
    await p.mustAct(caseId, 'reject', merchant, { reason: 'No' });
    await p.mustAct(caseId, 'amend', buyer, { description: 'Please' });
    const all = await p.events(caseId);
    expect(all.length).toBeGreaterThan(4);

    const admin = await p.admin();
    const paged: any[] = [];
    let cursor: string | undefined;
    do {
      const page = await p.api.get(`/v1/cases/${caseId}/events?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: admin });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor && paged.length <= all.length);
    expect(paged).toEqual(all);
    expectProblem(await p.api.get(`/v1/cases/${caseId}/events?limit=0`, { token: admin }), 400);
    expectProblem(await p.api.get(`/v1/cases/${caseId}/events?limit=201`, { token: admin }), 400);
  });

  it('withdraw closes the case, frees its lines for a new request and leaves nothing to rate', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await p.order(spec);
    const request = { orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false };
    const { caseId } = await p.mustOpenCase(buyer, request);

    const withdrawn = await p.act(caseId, 'withdraw', buyer);
    expect(withdrawn.status).toBe(200);
    const closed = expectCaseResponse(withdrawn, 'buyer');
    expect(closed).toMatchObject({ status: 'closed', closedReason: 'withdrawn', statusLabel: 'Closed (售后关闭)', allowedActions: [] });
    expect(closed.deadlines).toEqual({});
    expectSubsequence(await p.eventTypes(caseId), ['ReturnRequested', 'CaseWithdrawn', 'CaseClosed']);

    const again = await p.openCase(buyer, request);
    expect(again.status).toBe(201);
    expect(again.body.caseId).not.toBe(caseId);
  });

  it('agent work: claim, note, compensate within authority, release; approving on the merchant\'s behalf', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await p.order({ ...spec, lines: [{}, {}] });
    const agent = await p.agent('agent-j1', LINE, 20_000);
    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'partial_refund', reason: 'service_complaint', lines: [{ lineId: 'L1', quantity: 1 }], requestedAmount: 8_000 });

    const claimed = await p.act(caseId, 'claim', agent);
    expect(claimed.status).toBe(200);
    expect(expectCaseResponse(claimed, 'other')).toMatchObject({ assignee: 'agent-j1', status: 'pending_merchant' });
    expect(claimed.body.allowedActions).toEqual(expect.arrayContaining(['release', 'note', 'compensate']));
    expect(claimed.body.allowedActions).not.toContain('claim');

    await p.mustAct(caseId, 'note', agent, { text: 'Called the buyer; agreed on a coupon' });
    const compensated = await p.mustAct(caseId, 'compensate', agent, { amount: 500, form: 'coupon', note: 'Goodwill' });
    expect(compensated.refunds).toEqual([expect.objectContaining({ amount: 500, purpose: 'compensation' })]);
    expect(compensated.status).toBe('pending_merchant');
    const released = await p.mustAct(caseId, 'release', agent);
    expect(released.assignee).toBeUndefined();

    const events = await p.events(caseId);
    expectSubsequence(events.map((e) => e.type), ['CaseClaimed', 'CaseNoteAdded', 'CompensationGranted', 'RefundIssued', 'CaseReleased']);
    expect(events.find((e) => e.type === 'CompensationGranted').data).toMatchObject({ amount: 500, form: 'coupon' });
    expect(events.find((e) => e.type === 'CaseClaimed').data).toEqual({ agentId: 'agent-j1' });
    expect((await p.readOrder(orderId)).refundLedger.reserved).toBe(0);

    // An agent requests on a buyer's behalf (channel `agent`), claims the case and approves within its authority.
    const onBehalf = await p.openCase(agent, { orderId, kind: 'return_and_refund', reason: 'wrong_item', lines: [{ lineId: 'L2', quantity: 1 }], pickup: false });
    expect(onBehalf.status).toBe(201);
    expect(onBehalf.body).toMatchObject({ buyerId: spec.buyerId, status: 'pending_merchant' });
    const onBehalfEvents = await p.events(onBehalf.body.caseId);
    expect(onBehalfEvents[0].metadata).toMatchObject({ channel: 'agent', actor: { role: 'agent', id: 'agent-j1' } });
    await p.mustAct(onBehalf.body.caseId, 'claim', agent);
    const approved = await p.mustAct(onBehalf.body.caseId, 'approve', agent);
    expect(approved.status).toBe('awaiting_return');
    expect((await p.events(onBehalf.body.caseId)).find((e) => e.type === 'MerchantAgreed').metadata.actor).toEqual({ role: 'agent', id: 'agent-j1' });
  });

  it('admin assigns, transfers and releases a case', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await p.order(spec);
    const admin = await p.admin();
    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'reship', reason: 'wrong_item', lines: [{ lineId: 'L1', quantity: 1 }] });

    const assigned = await p.act(caseId, 'assign', admin, { agentId: 'agent-a' });
    expect(assigned.status).toBe(200);
    expect(expectCaseResponse(assigned, 'other').assignee).toBe('agent-a');
    expect(assigned.body.allowedActions).toEqual(expect.arrayContaining(['transfer', 'release', 'note']));
    expect((await p.mustAct(caseId, 'transfer', admin, { agentId: 'agent-b' })).assignee).toBe('agent-b');
    expect((await p.mustAct(caseId, 'release', admin)).assignee).toBeUndefined();

    const events = await p.events(caseId);
    expectSubsequence(events.map((e) => e.type), ['CaseAssigned', 'CaseTransferred', 'CaseReleased']);
    expect(events.find((e) => e.type === 'CaseTransferred').data).toEqual({ agentId: 'agent-b' });
  });

  it('eligibility shows the kinds allowed now, refundable, the no-reason window, the active case and the policy', async () => {
    const { buyer, spec } = await party();
    const deliveredAt = new Date(Date.now() - 2 * HOUR).toISOString();
    const { orderId } = await p.order({ ...spec, lines: [{ unitPrice: 9_000 }, { unitPrice: 4_000, noReasonReturn: false }] }, 'delivered', { deliveredAt });

    const first = await p.api.get(`/v1/orders/${orderId}/eligibility`, { token: buyer });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ orderId, currency: 'CNY', policy: expect.any(Object) });
    const [l1, l2] = first.body.lines;
    expect(l1).toMatchObject({ lineId: 'L1', refundable: 9_000 });
    expect(l1.kinds).toEqual(expect.arrayContaining(['return_and_refund', 'exchange', 'repair', 'reship', 'partial_refund', 'compensation']));
    expect(Date.parse(l1.noReasonUntil) - Date.parse(deliveredAt)).toBe(7 * 24 * HOUR);
    expect(l2).toMatchObject({ lineId: 'L2', refundable: 4_000 });
    expect(l2.noReasonUntil).toBeUndefined();
    expect(l1.activeCaseId).toBeUndefined();
    expect(first.body.policy).toHaveProperty('merchantResponse');
    expect(first.body.policy).toHaveProperty('compensationCap', 10_000);

    const { caseId } = await p.mustOpenCase(buyer, { orderId, kind: 'exchange', reason: 'no_reason_7_days', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false });
    const after = await p.api.get(`/v1/orders/${orderId}/eligibility`, { token: buyer });
    expect(after.body.lines[0].activeCaseId).toBe(caseId);
  });

  it('a merchant policy set by an admin applies to deadlines that start later', async () => {
    const merchantId = uniqueId('m');
    const admin = await p.admin();
    const put = await p.api.put(`/v1/policies/merchant-${merchantId}`, { merchantResponse: 'PT24H', compensationCap: 5_000 }, { token: admin });
    expect(put.status).toBe(200);
    const got = await p.api.get(`/v1/policies/merchant-${merchantId}`, { token: admin });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ scope: `merchant-${merchantId}`, overrides: { merchantResponse: 'P1D', compensationCap: 5_000 } });
    expect(got.body.effective).toMatchObject({ merchantResponse: 'P1D', compensationCap: 5_000, maxAmendments: 3 });

    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    const { orderId } = await p.order({ buyerId, merchantId, businessLine: LINE });
    const opened = await p.mustOpenCase(buyer, { orderId, kind: 'reship', reason: 'missing_item', lines: [{ lineId: 'L1', quantity: 1 }] });
    expect(Math.abs(msBetween(opened.requestedAt, opened.deadlines.merchantResponse) - 24 * HOUR)).toBeLessThan(60_000);
  });
});
