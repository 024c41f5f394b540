import fc from 'fast-check';
import { allowedActions } from './case/allowed-actions';
import { isCaseAction, type CaseCommand } from './case/commands';
import { decideCase } from './case/decide';
import type { CaseEvent, CaseEventType, RecordedCaseEvent } from './case/events';
import { foldCase } from './case/evolve';
import type { CaseState } from './case/state';
import { rolesFor, TRANSITIONS } from './case/transitions';
import { canSeeCase } from './case/visibility';
import { CASE_STATUSES, isOpenStatus } from './kinds';
import { findLine, isRegistered, refundLedger, type RegisteredOrder } from './order/state';
import {
  ACTORS,
  AUTOMATIC_EVENTS,
  World,
  buildHistoryCommand,
  checkAgainstTable,
  guidedStepArb,
  historyStepArb,
  movesFor,
  pickMove,
  scenarioArb,
  scenarioRequest,
  scenarioWorld,
  secondRequest,
  type GuidedStep,
  type HistoryStep,
} from './testing';
import { iso } from './time';

// Targeted histories (testing/guided.ts): each step is mostly a move a party
// could validly make next, sometimes anything at all, sometimes a second case
// on the same order. After every step the promises of DOMAIN.md are checked;
// at the end, how often each status, event and money path was reached is
// printed and held to a minimum, so the deep states stay tested.

const RUNS = 300;
const STEPS = 30;
const actorList = Object.values(ACTORS);

/** A plain check: `expect` builds an error with a stack on every call, too slow for thousands of steps. */
function holds(condition: boolean, what: string, detail?: unknown): void {
  if (!condition) throw new Error(`${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
}

function checkInvariants(w: World): void {
  const order = w.order;
  if (!isRegistered(order)) throw new Error('order vanished');
  const ledger = refundLedger(order);
  holds(ledger.reserved + ledger.refunded <= ledger.paid, 'reserved + refunded ≤ paid', ledger);
  holds(ledger.refundable >= 0, 'refundable ≥ 0', ledger);
  for (const line of order.lines) {
    holds(line.reserved >= 0 && line.reserved + line.refunded <= line.paidAmount, 'a line never refunds more than was paid for it', line);
    holds(line.givenBack <= line.quantity, 'given back ≤ ordered', line);
  }
  const reservedCounts = new Map<string, number>();
  for (const e of w.orderEvents) {
    if (e.type === 'RefundReserved' || e.type === 'RefundReservationSettled') {
      const key = `${e.type}:${e.data.refundId}`;
      reservedCounts.set(key, (reservedCounts.get(key) ?? 0) + 1);
    }
  }
  for (const [key, count] of reservedCounts) holds(count === 1, 'each refund reserved and settled once', key);

  for (const caseId of w.caseIds()) {
    const c = w.case(caseId);
    const history = w.events(caseId);
    holds(CASE_STATUSES.includes(c.status), 'a known status', c.status);
    const ids = (type: 'RefundIssued' | 'RefundSettled') => history.flatMap((e) => (e.type === type ? [e.data.refundId] : []));
    holds(new Set(ids('RefundIssued')).size === ids('RefundIssued').length, 'a refund id is issued once', ids('RefundIssued'));
    holds(new Set(ids('RefundSettled')).size === ids('RefundSettled').length, 'a refund settles once', ids('RefundSettled'));
    // Payouts never pass the case's cap; refunds for the goods never pass what was agreed.
    holds(c.payouts <= w.policy.compensationCap, 'payouts ≤ compensationCap', { payouts: c.payouts });
    const goods = c.refunds.filter((r) => r.purpose === 'refund');
    const refunded = goods.reduce((s, r) => s + r.amount, 0);
    holds(refunded <= agreedFromHistory(history, order), 'refunds ≤ agreed', { refunded, agreed: agreedFromHistory(history, order) });
    holds(c.kind !== 'compensation' || goods.length === 0, 'a compensation case pays only payouts');
    // The order's reservations are exactly this case's refunds for the goods, in step.
    for (const refund of goods) {
      const r = order.reservations[refund.refundId];
      const status = refund.status === 'settled' ? 'settled' : 'reserved';
      holds(r?.caseId === caseId && r.amount === refund.amount && r.status === status, 'each refund has its reservation', { refund, r });
    }
    holds(Object.values(order.reservations).filter((r) => r.caseId === caseId).length === goods.length, 'no reservation without a refund', caseId);
    // Lines are held by exactly the active cases that hold lines.
    const held = order.lines.filter((l) => l.heldBy === caseId).map((l) => l.lineId).sort().join();
    const expected = isOpenStatus(c.status) && c.kind !== 'compensation' ? c.lines.map((l) => l.lineId).sort().join() : '';
    holds(held === expected, 'lines are held by exactly the active cases', { caseId, held, expected });
    if (!isOpenStatus(c.status)) {
      for (const actor of actorList) {
        const allowed = allowedActions(c, actor, w.now, w.policy, w.buyerFlagged);
        // ...and a person's retry of money given up, which outlives the case.
        const givenUp = c.refunds.some((r) => r.status === 'failed');
        holds(allowed.every((a) => a === 'rate' || (a === 'retry-refund' && givenUp)), 'an ended case offers only a rating, or a retry of a refund given up', allowed);
      }
      holds(Object.keys(c.deadlines).length === 0, 'an ended case has no deadline', c.deadlines);
    }
  }
}

/**
 * What the parties agreed the goods' refunds may reach, read from the events
 * themselves (the folded `agreedAmount` follows what was issued, so it cannot
 * be the yardstick): the last approval, accepted offer or ruling; an
 * unrepairable item's lines at their paid price.
 */
function agreedFromHistory(history: readonly RecordedCaseEvent[], order: RegisteredOrder): number {
  let agreed = 0;
  let issued = 0;
  for (const e of history) {
    if (e.type === 'AutoReviewApproved' || e.type === 'MerchantAgreed' || e.type === 'OfferAccepted') agreed = e.data.amount;
    if (e.type === 'ArbitrationRuled' && e.data.ruling === 'buyer' && e.data.refundAmount !== undefined) agreed = issued + e.data.refundAmount;
    if (e.type === 'RepairDeclaredUnrepairable') {
      const requested = history.find((r) => r.type === 'ReturnRequested');
      const lines = requested?.type === 'ReturnRequested' ? requested.data.lines : [];
      agreed = lines.reduce((s, l) => {
        const line = findLine(order, l.lineId);
        return s + (line ? Math.floor((line.paidAmount * l.quantity) / line.quantity) : 0);
      }, 0);
    }
    if (e.type === 'RefundIssued' && e.data.purpose === 'refund') issued += e.data.amount;
  }
  return agreed;
}

/** The ways money reaches a buyer (DOMAIN.md, *Money*), told apart by the append that issues it. */
const MONEY_PATHS = ['refund', 'express refund', 'payout', 'counter-offer refund', 'unrepairable refund', 'arbitration refund'] as const;
type MoneyPath = (typeof MONEY_PATHS)[number];

function moneyPath(before: CaseState, events: readonly CaseEvent[]): MoneyPath | undefined {
  const issued = events.find((e) => e.type === 'RefundIssued');
  if (issued?.type !== 'RefundIssued') return undefined;
  const has = (type: CaseEventType) => events.some((e) => e.type === type);
  if (issued.data.purpose === 'compensation') return 'payout';
  if (issued.data.express) return 'express refund';
  if (has('OfferAccepted')) return 'counter-offer refund';
  if (has('RepairDeclaredUnrepairable')) return 'unrepairable refund';
  if (has('ArbitrationRuled') || (before.status !== 'none' && before.ruling?.ruling === 'buyer')) return 'arbitration refund';
  return 'refund';
}

/** Per run, what it reached; shares are runs that reached it over all runs. */
class Coverage {
  private readonly counts = new Map<string, number>();
  private run = new Set<string>();

  startRun(): void {
    this.run = new Set();
  }

  endRun(): void {
    for (const key of this.run) this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  saw(key: string): void {
    this.run.add(key);
  }

  share(key: string): number {
    return (this.counts.get(key) ?? 0) / RUNS;
  }
}

/** Lowest acceptable share per key; calibrated at about a third of what the generator reaches. */
const MINIMUM: Readonly<Record<string, number>> = {
  'status in_repair': 0.03,
  'status negotiating': 0.03,
  'event ExpressRefundGranted': 0.01,
  'event OfferAccepted': 0.01,
  'event OfferDeclined': 0.005,
  'event OfferLapsed': 0.005,
  'event RepairDeclaredUnrepairable': 0.01,
  'event ReturnInspectionFailed': 0.01,
  'event CaseTransferred': 0.005,
  'event CaseAmended': 0.01,
  'money express refund': 0.01,
  'money counter-offer refund': 0.01,
  'money unrepairable refund': 0.01,
  'money arbitration refund': 0.01,
};
const DEFAULT_MINIMUM = 0.02;

type Step = { guided: GuidedStep } | { random: HistoryStep };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 9, arbitrary: guidedStepArb.map((guided) => ({ guided })) },
  { weight: 1, arbitrary: historyStepArb.map((random) => ({ random })) },
);

/** The command a step stands for: a guided move on c1 (or c2), or anything at all. */
function commandFor(w: World, step: Step): { command: CaseCommand; caseId: string } | undefined {
  if ('random' in step) return buildHistoryCommand(w, step.random);
  const { guided } = step;
  if (guided.wild === 2 || w.state('c1').status === 'completed' || w.state('c1').status === 'closed') {
    if (w.state('c2').status === 'none') {
      const command = secondRequest(w, guided.seed);
      if (command) return { command, caseId: 'c2' };
    }
    const move = pickMove(movesFor(w, 'c2', guided.seed), guided.pick);
    if (move) {
      if (move.at) w.at(move.at);
      return move;
    }
  }
  const move = pickMove(movesFor(w, 'c1', guided.seed), guided.pick);
  if (!move) return undefined;
  if (move.at) w.at(move.at);
  return move;
}

test('targeted histories reach every status and money path and keep every promise of DOMAIN.md', () => {
  const coverage = new Coverage();
  const tableMisses = new Set<string>();
  let refusedAsNotAllowed = 0;
  let commands = 0;

  const step = (w: World, command: CaseCommand, caseId: string): void => {
    const before = w.state(caseId);
    const decision = decideCase(before, command, w.ctx());
    commands += 1;

    if (isCaseAction(command.type) && before.status !== 'none') {
      const allowed = allowedActions(before, command.actor, w.now, w.policy, w.buyerFlagged);
      if (allowed.includes(command.type)) {
        holds(decision.ok || decision.refusal.type !== 'ActionNotAllowed', 'an allowed action is never refused as not allowed', command.type);
      } else {
        // Outside it: always refused, and as not allowed unless an earlier check (403/404) answered.
        holds(!decision.ok, 'an action outside allowedActions is refused', { type: command.type, allowed });
        if (!decision.ok && rolesFor(command.type).includes(command.actor.role) && canSeeCase(before, command.actor) && decision.refusal.type !== 'Forbidden') {
          holds(decision.refusal.type === 'ActionNotAllowed', 'refused as not allowed', decision.refusal);
        }
      }
      holds(
        isOpenStatus(before.status) || command.type === 'rate' || command.type === 'retry-refund' || !decision.ok,
        'an ended case takes only a rating, or a retry of a refund given up',
        command.type,
      );
    }
    if (!decision.ok && decision.refusal.type === 'ActionNotAllowed') refusedAsNotAllowed += 1;

    const applied = w.send(command, caseId);
    if (decision.ok && !applied.ok) {
      // Only the order's own rules may refuse what the case accepted (a race lost on lines or money).
      holds(applied.refusal.type === 'BusinessRuleBroken', 'only the order refuses what the case accepted', applied.refusal);
    }
    if (applied.ok) {
      const after = foldCase(applied.events.map((e) => ({ ...e, metadata: { occurredAt: iso(w.now) } })), before);
      // The resulting status is in the row's `next`, the events in its `events` (or automatic).
      const agreed = checkAgainstTable(before, command, applied.events, after);
      if (!agreed.ok) tableMisses.add(agreed.why);
      for (const e of applied.events) coverage.saw(`event ${e.type}`);
      if (after.status !== 'none') coverage.saw(`status ${after.status}`);
      const path = moneyPath(before, applied.events);
      if (path) coverage.saw(`money ${path}`);
    }
    checkInvariants(w);
  };

  fc.assert(
    fc.property(scenarioArb, fc.array(stepArb, { minLength: STEPS, maxLength: STEPS }), (scenario, steps) => {
      const w = scenarioWorld(scenario);
      coverage.startRun();
      step(w, scenarioRequest(scenario), 'c1');
      for (const s of steps) {
        w.advance('guided' in s ? s.guided.advance : s.random.advance);
        const next = commandFor(w, s);
        if (next) step(w, next.command, next.caseId);
      }
      coverage.endRun();
    }),
    { numRuns: RUNS },
  );

  expect([...tableMisses]).toEqual([]);
  const eventTypes = [...new Set([...TRANSITIONS.flatMap((r) => r.events), ...AUTOMATIC_EVENTS, 'ReturnRequested' as const])].sort();
  const keys = [
    ...CASE_STATUSES.map((s) => `status ${s}`),
    ...eventTypes.map((t) => `event ${t}`),
    ...MONEY_PATHS.map((p) => `money ${p}`),
  ];
  // One line per status, event type and money path with the share of runs that reached it.
  console.log(
    [`${RUNS} runs, ${commands} commands, ${((100 * refusedAsNotAllowed) / commands).toFixed(1)}% refused as not allowed`, ...keys.map((k) => `${k}: ${(100 * coverage.share(k)).toFixed(1)}%`)].join('\n'),
  );
  const short = keys.filter((k) => coverage.share(k) < (MINIMUM[k] ?? DEFAULT_MINIMUM)).map((k) => `${k} ${(100 * coverage.share(k)).toFixed(1)}%`);
  expect(short).toEqual([]);
});
