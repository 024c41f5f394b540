import fc from 'fast-check';
import { decideCase } from './case/decide';
import { foldCase } from './case/evolve';
import { CASE_KINDS, CASE_REASONS } from './kinds';
import { eligibility } from './eligibility';
import { findLine, isRegistered, remainingUnits } from './order/state';
import { act, after, DAY, merchant, orderSnapshot, request, World } from './testing';

const registered = (w: World) => {
  if (!isRegistered(w.order)) throw new Error('no order');
  return w.order;
};

describe('eligibility', () => {
  test('a delivered order: every kind on a no-reason line, the window shown', () => {
    const w = new World().delivered();
    const result = eligibility(registered(w), w.now, w.policy);
    expect(result).toMatchObject({ orderId: 'o1', currency: 'CNY', policy: { merchantResponse: 'P2D', maxAmendments: 3 } });
    const [l1, l2] = result.lines;
    expect(l1).toEqual({
      lineId: 'L1',
      kinds: ['refund_only', 'return_and_refund', 'exchange', 'repair', 'reship', 'partial_refund', 'compensation'],
      reasons: expect.any(Object),
      refundable: 20_000,
      noReasonUntil: after(6 * DAY).toISOString(),
    });
    expect(l2).toEqual({ lineId: 'L2', kinds: l1.kinds, reasons: expect.any(Object), refundable: 9_999 });
    const everyReason = CASE_REASONS;
    const butNoReason = CASE_REASONS.filter((reason) => reason !== 'no_reason_7_days');
    expect(l1.reasons).toEqual({
      refund_only: ['not_received'],
      return_and_refund: everyReason,
      exchange: everyReason,
      repair: everyReason,
      reship: everyReason,
      partial_refund: everyReason,
      compensation: everyReason,
    });
    // L2's snapshot allows no no-reason returns.
    expect(l2.reasons.exchange).toEqual(butNoReason);
    expect(l2.reasons.refund_only).toEqual(['not_received']);
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

  test('offers refund_only on a delivered order with not_received alone, which the request accepts', () => {
    const w = new World().delivered();
    const line = eligibility(registered(w), w.now, w.policy).lines[0];
    expect(line.kinds).toContain('refund_only');
    expect(line.reasons.refund_only).toEqual(['not_received']);
    const refused = decideCase(foldCase([]), request({ kind: 'refund_only', reason: 'quality_defect' }), w.ctx());
    expect(refused).toMatchObject({ ok: false, refusal: { rule: 'kind_not_allowed_now' } });
    expect(decideCase(foldCase([]), request({ kind: 'refund_only', reason: 'not_received' }), w.ctx()).ok).toBe(true);
  });

  test('the request decider accepts exactly what eligibility offers, for generated orders', () => {
    const scene = fc.record({
      stage: fc.constantFrom('placed', 'shipped', 'delivered'),
      days: fc.integer({ min: -3, max: 400 }),
      noReasonReturn: fc.boolean(),
      quantity: fc.integer({ min: 1, max: 3 }),
      held: fc.boolean(),
      flagged: fc.boolean(),
    });
    fc.assert(
      fc.property(scene, ({ stage, days, noReasonReturn, quantity, held, flagged }) => {
        const lines = orderSnapshot().lines.map((l, i) => (i === 0 ? { ...l, quantity, paidAmount: l.unitPrice * quantity, noReasonReturn } : l));
        const w = new World().register(orderSnapshot({ lines }));
        if (stage !== 'placed') w.ship(after(-2 * DAY));
        if (stage === 'delivered') w.deliver(after(-DAY));
        // Another case may hold L2 (refund_only with not_received is open at every stage).
        if (held) w.run(request({ caseId: 'c-held', kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L2', quantity: 1 }] }));
        w.buyerFlagged = flagged;
        w.at(after(days * DAY));
        const order = registered(w);
        for (const line of eligibility(order, w.now, w.policy).lines) {
          const units = Math.max(1, remainingUnits(findLine(order, line.lineId)!));
          for (const kind of CASE_KINDS) {
            for (const reason of CASE_REASONS) {
              const offered = line.reasons[kind]?.includes(reason) ?? false;
              expect(line.kinds.includes(kind)).toBe(line.reasons[kind] !== undefined);
              const amount = kind === 'partial_refund' || kind === 'compensation' ? 1 : undefined;
              for (const asked of kind === 'compensation' ? [1] : [1, units]) {
                const command = request({ caseId: 'c-new', kind, reason, lines: [{ lineId: line.lineId, quantity: asked }], requestedAmount: amount });
                const decision = decideCase(foldCase([]), command, w.ctx());
                expect({ kind, reason, asked, accepted: decision.ok }).toEqual({ kind, reason, asked, accepted: offered });
              }
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});
