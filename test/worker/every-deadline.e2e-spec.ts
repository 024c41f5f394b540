import { Platform } from '../e2e/support/platform';
import { eventually } from '../support/eventually';
import { uniqueId } from '../e2e/support/orders';
import { startService, stopService, type StartedService } from '../e2e/support/service';

jest.setTimeout(120_000);

// DOMAIN.md "Case statuses": every deadline, and what happens when it passes,
// with no person acting after the first step. All deadlines are three
// seconds here; each journey makes its one move at once and then waits.

const MERCHANT = 'm-every-deadline';
const SHORT = 'PT3S';

describe('every deadline fires (the worker in npm start)', () => {
  let started: StartedService;
  let p: Platform;

  beforeAll(async () => {
    started = await startService({
      POLICY_MERCHANT_RESPONSE: 'PT1H', // the merchant's first answer is the test's one move
      POLICY_BUYER_OFFER_RESPONSE: SHORT,
      POLICY_BUYER_APPEAL: SHORT,
      POLICY_RETURN_TRANSIT: SHORT,
      POLICY_MERCHANT_RECEIPT: SHORT,
      POLICY_MERCHANT_SHIPMENT: SHORT,
      POLICY_REPLACEMENT_AUTO_COMPLETE: SHORT,
      POLICY_PLATFORM_RULING_SLA: SHORT,
      SANDBOX_PAYMENT_SETTLE_MS: '100',
    });
    p = new Platform(started.api);
  }, 90_000);

  afterAll(() => stopService(started));

  async function openCase(kind: string, reason: string, extra: Record<string, unknown> = {}) {
    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    const merchant = await p.merchant(MERCHANT);
    const { orderId } = await p.order({ buyerId, merchantId: MERCHANT, businessLine: 'home', lines: [{ quantity: 2, unitPrice: 20_000 }] });
    const kase = await p.mustOpenCase(buyer, { orderId, kind, reason, lines: [{ lineId: 'L1', quantity: 1 }], evidence: ['https://img.example.com/e.jpg'], pickup: false, ...extra });
    return { caseId: kase.caseId as string, buyer, merchant, orderId };
  }

  const statusOnce = (caseId: string, token: string, status: string) =>
    eventually(`${caseId} ${status}`, async () => {
      const response = await p.getCase(caseId, token);
      return response.body.status === status ? response.body : undefined;
    });

  const systemEvents = async (caseId: string) => (await p.events(caseId)).filter((e) => e.metadata.actor.role === 'system').map((e) => e.type);

  it('buyerOfferResponse: an offer the buyer never answers lapses, closed as expired', async () => {
    const { caseId, buyer, merchant } = await openCase('partial_refund', 'quality_defect', { requestedAmount: 10_000 });
    await p.mustAct(caseId, 'counter-offer', merchant, { amount: 3_000 });
    const closed = await statusOnce(caseId, buyer, 'closed');
    expect(closed.closedReason).toBe('expired');
    expect(await systemEvents(caseId)).toEqual(expect.arrayContaining(['OfferLapsed', 'CaseClosed']));
  });

  it('buyerAppeal: a rejection the buyer never appeals closes the case as rejected', async () => {
    const { caseId, buyer, merchant } = await openCase('partial_refund', 'quality_defect', { requestedAmount: 5_000 });
    await p.mustAct(caseId, 'reject', merchant, { reason: 'Not a defect' });
    expect((await statusOnce(caseId, buyer, 'closed')).closedReason).toBe('rejected');
  });

  it('returnTransit then merchantReceipt: a parcel never scanned is taken as delivered, receipt is confirmed by the clock, the refund is paid, completed', async () => {
    const { caseId, buyer, merchant, orderId } = await openCase('return_and_refund', 'quality_defect');
    await p.mustAct(caseId, 'approve', merchant);
    await p.mustAct(caseId, 'ship-return', buyer, { carrier: 'SF', trackingNumber: `RT${orderId.slice(-12)}` });
    await statusOnce(caseId, buyer, 'completed');
    const events = await p.events(caseId);
    expect(events.find((e) => e.type === 'ReturnDelivered').data).toMatchObject({ assumed: true });
    expect(events.find((e) => e.type === 'ReturnReceived').data).toMatchObject({ inspection: 'passed', auto: true });
    expect(events.filter((e) => e.type === 'RefundSettled')).toHaveLength(1);
  });

  it('merchantShipment then platformRulingSla: a replacement never shipped escalates, and an overdue ruling urges staff (never rules)', async () => {
    const { caseId, buyer, merchant } = await openCase('reship', 'missing_item');
    await p.mustAct(caseId, 'approve', merchant);
    await statusOnce(caseId, buyer, 'escalated');
    await eventually('CaseUrged by the system', async () => ((await systemEvents(caseId)).includes('CaseUrged') ? true : undefined));
    const urged = (await p.events(caseId)).find((e) => e.type === 'CaseUrged');
    expect(urged.metadata.actor.role).toBe('system');
    expect((await p.getCase(caseId, buyer)).body.status).toBe('escalated');
  });

  it('replacementAutoComplete: a replacement the buyer never confirms completes the case', async () => {
    const { caseId, buyer, merchant, orderId } = await openCase('reship', 'missing_item');
    await p.mustAct(caseId, 'approve', merchant);
    await p.mustAct(caseId, 'ship-replacement', merchant, { carrier: 'SF', trackingNumber: `RP${orderId.slice(-12)}` });
    await statusOnce(caseId, buyer, 'completed');
    expect(await systemEvents(caseId)).toContain('CaseCompleted');
  });
});
