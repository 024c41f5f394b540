import fc from 'fast-check';
import { allowedActions } from '../case/allowed-actions';
import { CASE_ACTIONS, SYSTEM_COMMAND_TYPES, type CaseCommand } from '../case/commands';
import type { AfterSalesCase } from '../case/state';
import { rolesFor } from '../case/transitions';
import { CASE_KINDS, CASE_REASONS, COMPENSATION_FORMS, type Actor } from '../kinds';
import { iso } from '../time';
import { ACTORS, DAY, HOUR } from './fixtures';
import type { World } from './world';

// Long random histories from every actor: each step picks, most of the time,
// something a party could sensibly do next (an allowed action, a due timer,
// an awaited callback), and otherwise anything at all, so refusals are
// exercised too. The order is o1 of orderSnapshot(), cases c1 to c3.

const actorList = Object.values(ACTORS);
const commandTypes = [...CASE_ACTIONS, ...SYSTEM_COMMAND_TYPES];

/** One step of a history: how far time moves, which case, and the picks that choose a command and its data. */
export const historyStepArb = fc.record({
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
export type HistoryStep = typeof historyStepArb extends fc.Arbitrary<infer S> ? S : never;

/** The order a history starts from. */
export const historySetupArb = fc.record({
  stage: fc.constantFrom('placed', 'shipped', 'delivered', 'delivered', 'delivered'),
  trust: fc.constantFrom(500, 650, 750),
  insured: fc.boolean(),
  flagged: fc.boolean(),
});

function randomActor(step: HistoryStep, type: CaseCommand['type']): Actor {
  const permitted = actorList.filter((a) => rolesFor(type).includes(a.role));
  // Mostly someone whose role performs the action, sometimes anyone (403/404 paths).
  const pool = step.rightRole > 1 && permitted.length > 0 ? permitted : actorList;
  return pool[step.actorPick % pool.length];
}

/** What someone could sensibly do next: users' allowed actions, plus the timers and callbacks the case is waiting for. */
function candidates(w: World, caseId: string): { type: CaseCommand['type']; actor: Actor }[] {
  const state = w.state(caseId);
  const out: { type: CaseCommand['type']; actor: Actor }[] = [];
  const agentWork = ['claim', 'release', 'assign', 'transfer', 'note', 'compensate', 'retry-refund'];
  for (const actor of actorList) {
    for (const type of allowedActions(state, actor, w.now, w.policy, w.buyerFlagged)) {
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

export function buildHistoryCommand(w: World, step: HistoryStep): { command: CaseCommand; caseId: string } {
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
      case 'retry-refund':
        return { refundId, note: step.flag ? 'the buyer gave a new account' : undefined };
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

