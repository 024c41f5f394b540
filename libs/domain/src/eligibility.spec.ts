import fc from 'fast-check';
import { checkRequest } from './case/request-rules';
import { CASE_KINDS } from './kinds';
import { eligibility } from './eligibility';
import { isRegistered } from './order/state';
import { act, after, DAY, merchant, request, World } from './testing';

const registered = (w: World) => {
  if (!isRegistered(w.order)) throw new Error('no order');
  return w.order;
};

describe('eligibility', () => {
  test('a delivered order: every kind on a no-reason line, the window shown', () => {
    const w = new World().delivered();
    const result = eligibility(registered(w), w.now, w.policy);
    expect(result).toMatchObject({ orderId: 'o1', currency: 'CNY', policy: { merchantResponse: 'P2D', maxAmendments: 3 } });
    expect(result.lines[0]).toEqual({
      lineId: 'L1',
      kinds: ['refund_only', 'return_and_refund', 'exchange', 'repair', 'reship', 'partial_refund', 'compensation'],
      refundable: 20_000,
      noReasonUntil: after(6 * DAY).toISOString(),
    });
    expect(result.lines[1]).toEqual({ lineId: 'L2', kinds: result.lines[0].kinds, refundable: 9_999 });
  });

  test('before shipment only refunds and compensation; a held line shows its case', () => {
    const placed = new World().register();
    expect(eligibility(registered(placed), placed.now, placed.policy).lines[0].kinds).toEqual(['refund_only', 'compensation']);
    const held = new World().delivered().run(request(), act('approve', merchant));
    expect(eligibility(registered(held), held.now, held.policy).lines[0]).toMatchObject({ kinds: ['compensation'], activeCaseId: 'c1' });
  });

  test('after the after-sales window only repair (warranty), not-received refunds and compensation remain', () => {
    const w = new World().delivered().at(after(30 * DAY));
    expect(eligibility(registered(w), w.now, w.policy).lines[0].kinds).toEqual(['refund_only', 'repair', 'compensation']);
  });

  test('never disagrees with the request rules', () => {
    fc.assert(
      fc.property(fc.integer({ min: -3, max: 400 }), fc.constantFrom('placed', 'shipped', 'delivered'), (days, stage) => {
        const w = new World().register();
        if (stage !== 'placed') w.ship(after(-2 * DAY));
        if (stage === 'delivered') w.deliver(after(-DAY));
        w.at(after(days * DAY));
        const order = registered(w);
        for (const line of eligibility(order, w.now, w.policy).lines) {
          for (const kind of CASE_KINDS) {
            const reason = kind === 'refund_only' && stage === 'delivered' ? 'not_received' : 'other';
            const amount = kind === 'partial_refund' || kind === 'compensation' ? 1 : undefined;
            const ok = checkRequest(order, { kind, reason, lines: [{ lineId: line.lineId, quantity: 1 }], requestedAmount: amount }, w.now, w.policy).ok;
            expect(line.kinds.includes(kind)).toBe(ok);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
