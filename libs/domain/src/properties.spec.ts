import fc from 'fast-check';
import { allowedActions } from './case/allowed-actions';
import { isCaseAction } from './case/commands';
import { decideCase } from './case/decide';
import { rolesFor } from './case/transitions';
import { canSeeCase } from './case/visibility';
import { CASE_STATUSES, isOpenStatus } from './kinds';
import { isRegistered, refundLedger } from './order/state';
import { ACTORS, DAY, T0, World, buildHistoryCommand, historySetupArb, historyStepArb, orderSnapshot } from './testing';

// Long random histories from every actor, driven as the application drives
// them (case decision, order follow-ups before and after), checking the
// invariants DOMAIN.md promises after every step.

const actorList = Object.values(ACTORS);

function checkInvariants(w: World): void {
  const order = w.order;
  if (!isRegistered(order)) throw new Error('order vanished');
  const ledger = refundLedger(order);
  expect(ledger.reserved + ledger.refunded).toBeLessThanOrEqual(ledger.paid);
  expect(ledger.refundable).toBeGreaterThanOrEqual(0);
  for (const line of order.lines) {
    expect(line.reserved).toBeGreaterThanOrEqual(0);
    expect(line.reserved + line.refunded).toBeLessThanOrEqual(line.paidAmount);
    expect(line.givenBack).toBeLessThanOrEqual(line.quantity);
  }
  const reservedCounts = new Map<string, number>();
  for (const e of w.orderEvents) {
    if (e.type === 'RefundReserved' || e.type === 'RefundReservationSettled') {
      const key = `${e.type}:${e.data.refundId}`;
      reservedCounts.set(key, (reservedCounts.get(key) ?? 0) + 1);
    }
  }
  for (const count of reservedCounts.values()) expect(count).toBe(1);

  for (const caseId of w.caseIds()) {
    const c = w.case(caseId);
    expect(CASE_STATUSES).toContain(c.status);
    const issued = w.events(caseId).filter((e) => e.type === 'RefundIssued').map((e) => (e.type === 'RefundIssued' ? e.data.refundId : ''));
    expect(new Set(issued).size).toBe(issued.length);
    const settledIds = w.events(caseId).filter((e) => e.type === 'RefundSettled').map((e) => (e.type === 'RefundSettled' ? e.data.refundId : ''));
    expect(new Set(settledIds).size).toBe(settledIds.length);
    // The order's reservations are exactly this case's refunds for the goods, in step.
    for (const refund of c.refunds.filter((r) => r.purpose === 'refund')) {
      const reservation = order.reservations[refund.refundId];
      expect(reservation).toMatchObject({ caseId, amount: refund.amount, status: refund.status === 'settled' ? 'settled' : 'reserved' });
    }
    expect(Object.values(order.reservations).filter((r) => r.caseId === caseId)).toHaveLength(c.refunds.filter((r) => r.purpose === 'refund').length);
    // Lines are held by exactly the active cases that hold lines.
    const holds = order.lines.filter((l) => l.heldBy === caseId).map((l) => l.lineId);
    const expected = isOpenStatus(c.status) && c.kind !== 'compensation' ? c.lines.map((l) => l.lineId) : [];
    expect(holds.sort()).toEqual([...expected].sort());
    if (!isOpenStatus(c.status)) {
      for (const actor of actorList) {
        for (const a of allowedActions(c, actor, w.now, w.policy)) expect(a).toBe('rate');
      }
      expect(c.deadlines).toEqual({});
    }
  }
}

test('random histories keep every promise of DOMAIN.md', () => {
  fc.assert(
    fc.property(historySetupArb, fc.array(historyStepArb, { minLength: 10, maxLength: 80 }), (setup, steps) => {
      const w = new World();
      w.register(orderSnapshot({ buyerTrustScore: setup.trust, returnShippingInsured: setup.insured }));
      if (setup.stage !== 'placed') w.ship(new Date(T0.getTime() - 2 * DAY));
      if (setup.stage === 'delivered') w.deliver(new Date(T0.getTime() - DAY));
      w.buyerFlagged = setup.flagged;

      for (const step of steps) {
        w.advance(step.advance);
        const { command, caseId } = buildHistoryCommand(w, step);
        const before = w.state(caseId);
        const decision = decideCase(before, command, w.ctx());

        if (isCaseAction(command.type) && before.status !== 'none') {
          const allowed = allowedActions(before, command.actor, w.now, w.policy);
          if (allowed.includes(command.type)) {
            // In allowedActions: never refused as not allowed.
            expect(decision.ok || decision.refusal.type !== 'ActionNotAllowed').toBe(true);
          } else {
            // Outside it: always refused, and as not allowed unless an earlier check (403/404) answered.
            expect(decision.ok).toBe(false);
            if (!decision.ok && rolesFor(command.type).includes(command.actor.role) && canSeeCase(before, command.actor) && decision.refusal.type !== 'Forbidden') {
              expect(decision.refusal.type).toBe('ActionNotAllowed');
            }
          }
          if (!isOpenStatus(before.status) && command.type !== 'rate') expect(decision.ok).toBe(false);
        }

        const applied = w.send(command, caseId);
        if (decision.ok && !applied.ok) {
          // Only the order's own rules may refuse what the case accepted (a race lost on lines or money).
          expect(applied.refusal.type).toBe('BusinessRuleBroken');
        }
        checkInvariants(w);
      }
    }),
    { numRuns: 200 },
  );
});
