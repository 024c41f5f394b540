import fc from 'fast-check';
import { allowedActions } from './case/allowed-actions';
import { CASE_ACTIONS, SYSTEM_COMMAND_TYPES, isCaseAction, type CaseCommand } from './case/commands';
import { decideCase } from './case/decide';
import type { AfterSalesCase } from './case/state';
import { rolesFor } from './case/transitions';
import { canSeeCase } from './case/visibility';
import { CASE_KINDS, CASE_REASONS, CASE_STATUSES, COMPENSATION_FORMS, isOpenStatus, type Actor } from './kinds';
import { isRegistered, refundLedger } from './order/state';
import { ACTORS, DAY, HOUR, T0, World, orderSnapshot } from './testing';
import { iso } from './time';

// Long random histories from every actor, driven as the application drives
// them (case decision, order follow-ups before and after), checking the
// invariants DOMAIN.md promises after every step.

const actorList = Object.values(ACTORS);
const commandTypes = [...CASE_ACTIONS, ...SYSTEM_COMMAND_TYPES];

const stepArb = fc.record({
  advance: fc.constantFrom(0, 0, HOUR, 6 * HOUR, DAY, 2 * DAY, 4 * DAY, 8 * DAY),
  caseNo: fc.constantFrom(1, 1, 1, 2, 3),
  type: fc.constantFrom(...commandTypes),
  actorPick: fc.nat({ max: 1_000 }),
  rightRole: fc.integer({ min: 0, max: 9 }),
  pick: fc.nat({ max: 1_000 }),
  amount: fc.constantFrom(1, 300, 3_000, 6_000, 9_999, 10_000, 20_000, 40_000),
  flag: fc.boolean(),
  flag2: fc.boolean(),
});
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

const worldArb = fc.record({
  stage: fc.constantFrom('placed', 'shipped', 'delivered', 'delivered', 'delivered'),
  trust: fc.constantFrom(500, 650, 750),
  insured: fc.boolean(),
  flagged: fc.boolean(),
});

function randomActor(step: Step, type: CaseCommand['type']): Actor {
  const permitted = actorList.filter((a) => rolesFor(type).includes(a.role));
  // Mostly someone whose role performs the action, sometimes anyone (403/404 paths).
  const pool = step.rightRole > 1 && permitted.length > 0 ? permitted : actorList;
  return pool[step.actorPick % pool.length];
}

/** What someone could sensibly do next: users' allowed actions, plus the timers and callbacks the case is waiting for. */
function candidates(w: World, caseId: string): { type: CaseCommand['type']; actor: Actor }[] {
  const state = w.state(caseId);
  const out: { type: CaseCommand['type']; actor: Actor }[] = [];
  const agentWork = ['claim', 'release', 'assign', 'transfer', 'note', 'compensate'];
  for (const actor of actorList) {
    for (const type of allowedActions(state, actor, w.now, w.policy)) {
      // Steps that move the case along are tried more often than desk work.
      const weight = agentWork.includes(type) ? 1 : 4;
      for (let i = 0; i < weight; i += 1) out.push({ type, actor });
    }
  }
  if (state.status === 'none') return out;
  const system = out.length;
  if (Object.keys(state.deadlines).length > 0) out.push({ type: 'deadline-passed', actor: ACTORS.system });
  if (state.refunds.some((r) => r.status !== 'settled')) {
    out.push({ type: 'refund-settled', actor: ACTORS.integration }, { type: 'refund-failed', actor: ACTORS.integration });
  }
  if (state.status === 'awaiting_return' && state.pickupRequested && !state.pickup) out.push({ type: 'schedule-pickup', actor: ACTORS.system });
  if (state.status === 'awaiting_return' || state.status === 'return_in_transit') {
    out.push({ type: 'return-collected', actor: ACTORS.integration }, { type: 'return-delivered', actor: ACTORS.integration });
  }
  if (state.status === 'replacement_in_transit') out.push({ type: 'replacement-delivered', actor: ACTORS.integration });
  if (state.insuranceClaim && !state.insuranceClaim.paid) out.push({ type: 'shipping-insurance-paid', actor: ACTORS.system });
  return [...out, ...out.slice(system), ...out.slice(system)];
}

function buildCommand(w: World, step: Step): { command: CaseCommand; caseId: string } {
  const caseId = `c${step.caseNo}`;
  const options = candidates(w, caseId);
  const guided = step.rightRole < 7 && options.length > 0;
  const chosen = guided ? options[step.actorPick % options.length] : undefined;
  const type = chosen?.type ?? step.type;
  const actor = chosen?.actor ?? randomActor(step, type);
  const state = w.state(caseId);
  const c: AfterSalesCase | undefined = state.status === 'none' ? undefined : state;
  const pick = <T>(xs: readonly T[]): T => xs[step.pick % xs.length];
  const refundId = c && c.refunds.length > 0 && step.pick % 11 !== 0 ? pick(c.refunds).refundId : `${caseId}-r${(step.pick % 4) + 1}`;
  const valid = step.pick % 7 !== 0;
  const tracking = valid ? (c?.returnParcel?.trackingNumber ?? c?.pickup?.trackingNumber ?? `RT-${caseId}`) : 'BAD-1';
  const at = iso(w.now);
  const data = ((): unknown => {
    switch (type) {
      case 'request': {
        const kind = pick(CASE_KINDS);
        const lines = step.pick % 3 === 0 ? [{ lineId: 'L1', quantity: 1 + (step.amount % 2) }, { lineId: 'L2', quantity: 1 }] : [{ lineId: step.flag2 ? 'L2' : 'L1', quantity: 1 }];
        const needsAmount = kind === 'partial_refund' || kind === 'compensation';
        return {
          caseId,
          orderId: 'o1',
          kind,
          reason: step.flag2 && kind === 'refund_only' ? 'not_received' : CASE_REASONS[step.actorPick % CASE_REASONS.length],
          lines,
          requestedAmount: needsAmount || step.flag ? step.amount : undefined,
          channel: 'app',
          pickup: step.flag2,
        };
      }
      case 'reject':
        return { reason: 'not as claimed' };
      case 'counter-offer':
        return { amount: step.amount };
      case 'amend':
        return { requestedAmount: step.flag ? step.amount : undefined };
      case 'ship-return':
        return { carrier: 'SF', trackingNumber: `RT-${caseId}` };
      case 'confirm-receipt':
        return { inspection: step.flag || step.flag2 ? 'passed' : 'failed', evidence: valid ? ['https://img.example/1.jpg'] : undefined };
      case 'ship-replacement':
        return { carrier: 'SF', trackingNumber: `RP-${caseId}` };
      case 'escalate':
        return { reason: 'please look' };
      case 'rule':
        return {
          ruling: step.flag ? 'buyer' : 'merchant',
          refundAmount: step.flag2 ? step.amount : undefined,
          returnRequired: step.pick % 3 === 0,
          note: 'ruled',
        };
      case 'assign':
      case 'transfer':
        return { agentId: pick([ACTORS.agent.id, ACTORS.agent2.id]) };
      case 'note':
        return { text: 'called' };
      case 'compensate':
        return { amount: step.amount, form: pick(COMPENSATION_FORMS) };
      case 'rate':
        return { score: (step.pick % 6) + 1, nps: step.flag ? step.amount % 12 : undefined };
      case 'deadline-passed': {
        const running = Object.entries(c?.deadlines ?? {});
        if (running.length > 0 && valid) {
          const [name, dueAt] = pick(running);
          // Timers fire at their due time or later, never before.
          if (Date.parse(dueAt) > w.now.getTime()) w.at(new Date(Date.parse(dueAt) + step.advance));
          return { name, dueAt };
        }
        return { name: pick(['merchantResponse', 'buyerAppeal', 'returnTransit', 'platformRulingSla'] as const), dueAt: at };
      }
      case 'schedule-pickup':
        return { carrier: 'SF', trackingNumber: `PK-${caseId}`, windowStart: at, windowEnd: iso(w.now.getTime() + 4 * HOUR) };
      case 'return-collected':
      case 'return-delivered':
        return { trackingNumber: tracking, at };
      case 'replacement-delivered':
        return { trackingNumber: valid ? c?.replacementParcel?.trackingNumber : 'BAD-2', at };
      case 'refund-settled':
        return { refundId, at };
      case 'refund-failed': {
        const attempts = c?.refunds.find((r) => r.refundId === refundId)?.attempts ?? 0;
        return { refundId, attempt: attempts + 1, final: step.flag2 };
      }
      case 'shipping-insurance-paid':
        return { claimId: valid ? `${caseId}-ins` : 'nope', amount: 1_000 };
      default:
        return {};
    }
  })();
  return { command: { type, actor, data } as CaseCommand, caseId };
}

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
    fc.property(worldArb, fc.array(stepArb, { minLength: 10, maxLength: 80 }), (setup, steps) => {
      const w = new World();
      w.register(orderSnapshot({ buyerTrustScore: setup.trust, returnShippingInsured: setup.insured }));
      if (setup.stage !== 'placed') w.ship(new Date(T0.getTime() - 2 * DAY));
      if (setup.stage === 'delivered') w.deliver(new Date(T0.getTime() - DAY));
      w.buyerFlagged = setup.flagged;

      for (const step of steps) {
        w.advance(step.advance);
        const { command, caseId } = buildCommand(w, step);
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
