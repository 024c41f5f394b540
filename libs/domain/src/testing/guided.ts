import fc from 'fast-check';
import { allowedActions } from '../case/allowed-actions';
import type { CaseCommand, RequestCase } from '../case/commands';
import type { AfterSalesCase, CaseState } from '../case/state';
import { COMPENSATION_FORMS, type Actor, type CaseKind, type Reason } from '../kinds';
import { caseRefundable, isRegistered } from '../order/state';
import { effectivePolicy } from '../policy';
import { iso } from '../time';
import { act } from './commands';
import { ACTORS, DAY, HOUR, T0, after, orderSnapshot } from './fixtures';
import { World } from './world';

// Targeted histories: each step chooses among what the parties could validly
// do next — allowed actions with payloads that pass the rules, due timers,
// awaited callbacks — so deep statuses and every money path are reached in a
// measured share of runs, not by luck.

/** The order stage each kind may be asked in (DOMAIN.md, *Kinds of case*), with the reason that allows it. */
const KIND_SETUPS: Readonly<Record<CaseKind, readonly { stage: Stage; reason: Reason }[]>> = {
  refund_only: [
    { stage: 'placed', reason: 'changed_mind' },
    { stage: 'shipped', reason: 'late_delivery' },
    { stage: 'delivered', reason: 'not_received' },
  ],
  return_and_refund: [
    { stage: 'delivered', reason: 'no_reason_7_days' },
    { stage: 'delivered', reason: 'quality_defect' },
    { stage: 'shipped', reason: 'changed_mind' },
  ],
  exchange: [{ stage: 'delivered', reason: 'wrong_item' }],
  repair: [{ stage: 'delivered', reason: 'quality_defect' }],
  reship: [{ stage: 'delivered', reason: 'missing_item' }],
  partial_refund: [{ stage: 'delivered', reason: 'not_as_described' }],
  compensation: [
    { stage: 'delivered', reason: 'late_delivery' },
    { stage: 'placed', reason: 'service_complaint' },
  ],
};

type Stage = 'placed' | 'shipped' | 'delivered';

/** A number in [0, max] with every value equally likely (fast-check otherwise favours small ones), so shares are as written. */
const uniform = (max: number) => fc.noBias(fc.nat({ max }));

/** One generated scene: the first case's kind and the order, buyer and policy it meets. */
export const scenarioArb = fc.record({
  // Return kinds have the longest roads (parcels, express refunds, repairs), so they come up more often.
  kind: fc.constantFrom<CaseKind>(
    'refund_only', 'return_and_refund', 'return_and_refund', 'return_and_refund', 'exchange', 'repair', 'repair', 'reship', 'partial_refund', 'compensation',
  ),
  setup: uniform(1_000),
  trust: fc.constantFrom(500, 650, 750, 750, 750),
  flagPick: uniform(9),
  insured: fc.boolean(),
  pickup: fc.boolean(),
  /** Which lines the case asks for, and whether it names a (smaller) amount. */
  linesPick: uniform(5),
  amountPick: uniform(5),
  /** Now and then a merchant or the platform switches an auto-review rule off. */
  autoReview: fc.constantFrom('on', 'on', 'on', 'small-off', 'shipment-off'),
});
export type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

/** One step: which move to take among the weighted candidates, a seed for its payload, and how far time moves first. */
export const guidedStepArb = fc.record({
  // Unbiased: a bias towards small values would keep taking the first move listed.
  pick: uniform(999_999).map((n) => n / 1_000_000),
  seed: uniform(1_000_000),
  advance: fc.constantFrom(0, 0, HOUR, 6 * HOUR, DAY, 2 * DAY),
  /** 2 (one step in twenty): a move on the second case instead of the first. */
  wild: uniform(19),
});
export type GuidedStep = typeof guidedStepArb extends fc.Arbitrary<infer S> ? S : never;

export function scenarioSetup(s: Scenario): { stage: Stage; reason: Reason; flagged: boolean } {
  const options = KIND_SETUPS[s.kind];
  const { stage, reason } = options[s.setup % options.length];
  // One scene in five has a flagged buyer: their cases go to the agent pool.
  return { stage, reason, flagged: s.flagPick < 2 };
}

/** The world a scenario starts in: order o1 at its stage, the buyer's flag and the policy in force. */
export function scenarioWorld(s: Scenario): World {
  const policy = effectivePolicy(
    s.autoReview === 'small-off' ? { autoReviewSmallAmount: 0 } : undefined,
    s.autoReview === 'shipment-off' ? { autoReviewRefundBeforeShipment: 0 } : undefined,
  );
  const w = new World(T0, policy);
  const { stage, flagged } = scenarioSetup(s);
  w.register(orderSnapshot({ buyerTrustScore: s.trust, returnShippingInsured: s.insured }));
  if (stage !== 'placed') w.ship(after(-2 * DAY));
  if (stage === 'delivered') w.deliver(after(-DAY));
  w.buyerFlagged = flagged;
  return w;
}

/** The first case's request: a kind allowed now, valid lines, an amount within the rules. */
export function scenarioRequest(s: Scenario, caseId = 'c1'): RequestCase {
  const { reason } = scenarioSetup(s);
  const lines =
    reason === 'no_reason_7_days' || s.linesPick < 3
      ? [{ lineId: 'L1', quantity: 1 + (s.linesPick % 2) }]
      : s.linesPick === 3
        ? [{ lineId: 'L2', quantity: 1 }]
        : [
            { lineId: 'L1', quantity: 1 },
            { lineId: 'L2', quantity: 1 },
          ];
  const amounts: Partial<Record<CaseKind, readonly (number | undefined)[]>> = {
    refund_only: [undefined, undefined, 3_000, 4_000, 6_000, undefined],
    return_and_refund: [undefined, undefined, 2_000, 5_000, 7_000, undefined],
    partial_refund: [1_000, 3_000, 5_000, 6_000, 8_000, 2_500],
    compensation: [500, 2_000, 4_000, 6_000, 9_000, 10_000],
  };
  const requestedAmount = amounts[s.kind]?.[s.amountPick];
  return {
    type: 'request',
    actor: s.amountPick === 5 ? ACTORS.agent : ACTORS.buyer,
    data: { caseId, orderId: 'o1', kind: s.kind, reason, lines, requestedAmount, channel: 'app', pickup: s.pickup },
  };
}

export interface Move {
  command: CaseCommand;
  caseId: string;
  weight: number;
  /** A timer fires at its due time: the clock moves there first. */
  at?: Date;
}

/** How often each action is tried when allowed: steps that move a case along beat desk work and early exits. */
const ACTION_WEIGHTS: Partial<Record<CaseCommand['type'], number>> = {
  approve: 5,
  reject: 1.5,
  'counter-offer': 3,
  'accept-offer': 3,
  'decline-offer': 1,
  withdraw: 0.3,
  urge: 0.4,
  amend: 1,
  'ship-return': 4,
  'confirm-receipt': 4,
  'ship-replacement': 3,
  'declare-unrepairable': 2,
  'confirm-delivery': 3,
  escalate: 3,
  rule: 4,
  rate: 1,
  claim: 0.6,
  release: 0.3,
  assign: 0.3,
  transfer: 0.3,
  note: 0.3,
  compensate: 0.8,
  'retry-refund': 0.5,
};

const people: readonly Actor[] = [ACTORS.buyer, ACTORS.merchant, ACTORS.agent, ACTORS.agent2, ACTORS.arbitrator, ACTORS.admin];
const lineQuantities = (c: AfterSalesCase) => c.lines.map(({ lineId, quantity }) => ({ lineId, quantity }));

/**
 * A payload for any command on this case that passes the command's value
 * rules where the case allows it at all (amounts within refundable, cap and
 * authority; the case's own tracking numbers and refund ids).
 */
export function payloadFor(w: World, state: CaseState, type: CaseCommand['type'], actor: Actor, seed: number): CaseCommand | undefined {
  const c = state.status === 'none' ? undefined : state;
  const caseId = c?.caseId ?? 'c1';
  const at = iso(w.now);
  const choose = <T>(xs: readonly T[]): T => xs[seed % xs.length];
  const command = <T extends CaseCommand['type']>(t: T, data?: Parameters<typeof act<T>>[2]) => act(t, actor, data);
  switch (type) {
    case 'request':
      return undefined;
    case 'approve':
      return command('approve', {});
    case 'reject':
      return command('reject', { reason: 'worn', note: choose([undefined, 'tags removed']) });
    case 'counter-offer': {
      const requested = c?.requestedAmount ?? 0;
      return command('counter-offer', { amount: Math.max(1, Math.floor(requested * choose([0.3, 0.5, 0.8]))) });
    }
    case 'accept-offer':
    case 'decline-offer':
    case 'withdraw':
    case 'urge':
    case 'confirm-delivery':
      return command(type, {});
    case 'amend': {
      const lower = c && c.requestedAmount > 1 && c.kind !== 'exchange' && c.kind !== 'repair' && c.kind !== 'reship';
      return command('amend', { description: 'more photos', requestedAmount: lower && seed % 3 === 0 ? c.requestedAmount - 1 : undefined });
    }
    case 'ship-return':
      return command('ship-return', { carrier: 'SF', trackingNumber: `RT-${caseId}` });
    case 'confirm-receipt':
      return seed % 5 === 0
        ? command('confirm-receipt', { inspection: 'failed', evidence: ['https://img.example/stain.jpg'], note: 'stained' })
        : command('confirm-receipt', { inspection: 'passed', disposition: choose(['restock', 'scrap', undefined] as const) });
    case 'ship-replacement':
      return command('ship-replacement', { carrier: 'SF', trackingNumber: `RP-${caseId}` });
    case 'declare-unrepairable':
      return command('declare-unrepairable', { note: 'board dead' });
    case 'escalate':
      return command('escalate', { reason: 'unfair' });
    case 'rule':
      return command('rule', c ? ruling(w, c, seed) : { ruling: 'merchant', note: 'worn' });
    case 'rate':
      return command('rate', { score: 1 + (seed % 5), nps: choose([undefined, 0, 7, 10]) });
    case 'claim':
    case 'release':
      return command(type, {});
    case 'assign':
    case 'transfer':
      return command(type, { agentId: choose([ACTORS.agent.id, ACTORS.agent2.id]) });
    case 'note':
      return command('note', { text: 'called the buyer' });
    case 'compensate': {
      const room = Math.min(actor.authorityLimit ?? 0, w.policy.compensationCap - (c?.payouts ?? 0));
      if (room < 1) return undefined;
      return command('compensate', { amount: Math.max(1, Math.floor(room * choose([0.1, 0.4, 1]))), form: choose(COMPENSATION_FORMS) });
    }
    case 'retry-refund': {
      const givenUp = c?.refunds.filter((r) => r.status === 'failed') ?? [];
      return givenUp.length === 0 ? undefined : command('retry-refund', { refundId: choose(givenUp).refundId });
    }
    case 'deadline-passed': {
      const running = Object.entries(c?.deadlines ?? {});
      if (running.length === 0) return undefined;
      const [name, dueAt] = choose(running) as [keyof AfterSalesCase['deadlines'], string];
      return command('deadline-passed', { name, dueAt });
    }
    case 'schedule-pickup':
      return command('schedule-pickup', { carrier: 'SF', trackingNumber: `PK-${caseId}`, windowStart: at, windowEnd: iso(after(4 * HOUR, w.now)) });
    case 'return-collected':
    case 'return-delivered':
      return command(type, { trackingNumber: c?.returnParcel?.trackingNumber ?? c?.pickup?.trackingNumber ?? `RT-${caseId}`, at });
    case 'replacement-delivered':
      return command('replacement-delivered', { trackingNumber: c?.replacementParcel?.trackingNumber, at });
    case 'refund-settled':
    case 'refund-failed': {
      const open = c?.refunds.filter((r) => r.status !== 'settled') ?? [];
      if (open.length === 0) return undefined;
      const refund = choose(open);
      if (type === 'refund-settled') return command('refund-settled', { refundId: refund.refundId, providerRef: `pay-${seed}`, at });
      const attempt = refund.attempts + 1;
      // The worker gives up after its third attempt (now and then at once): the case goes to the agent pool.
      return command('refund-failed', { refundId: refund.refundId, error: 'bank down', attempt, final: attempt >= 3 || seed % 5 === 0 });
    }
    case 'shipping-insurance-paid':
      return c?.insuranceClaim ? command('shipping-insurance-paid', { claimId: c.insuranceClaim.claimId, amount: c.insuranceClaim.amount }) : undefined;
    default: {
      const unknown: never = type;
      return unknown;
    }
  }
}

/** A ruling the arbitrator could give: for the merchant, or for the buyer with an amount the case allows. */
function ruling(w: World, c: AfterSalesCase, seed: number): Extract<CaseCommand, { type: 'rule' }>['data'] {
  if (seed % 4 === 0) return { ruling: 'merchant', note: 'the goods were used' };
  const goodsOnly = c.kind === 'exchange' || c.kind === 'repair' || c.kind === 'reship';
  const room = c.kind === 'compensation' ? w.policy.compensationCap - c.payouts : caseRefundable(w.order, c.caseId, lineQuantities(c));
  const returnRequired = (c.kind === 'return_and_refund' || goodsOnly) && seed % 3 === 0;
  if (goodsOnly && (seed % 2 === 0 || room < 1)) return { ruling: 'buyer', returnRequired: false, note: 'send another' };
  if (room < 1) return { ruling: 'merchant', note: 'nothing left to pay' };
  return { ruling: 'buyer', refundAmount: Math.max(1, Math.floor(room * [1, 0.5, 0.25][seed % 3])), returnRequired, note: 'fair' };
}

/** The timers and callbacks a case is waiting for now (what the scheduler, couriers and the payment centre would send). */
function awaited(c: AfterSalesCase): { type: CaseCommand['type']; actor: Actor; weight: number }[] {
  const out: { type: CaseCommand['type']; actor: Actor; weight: number }[] = [];
  const { system, integration } = ACTORS;
  for (let i = 0; i < Object.keys(c.deadlines).length; i += 1) out.push({ type: 'deadline-passed', actor: system, weight: 1.2 });
  if (c.refunds.some((r) => r.status === 'pending')) {
    // A refund that failed once tends to fail again (a closed account): enough of them reach the last attempt and a person.
    const failedBefore = c.refunds.some((r) => r.status === 'pending' && r.attempts > 0);
    out.push({ type: 'refund-settled', actor: integration, weight: 3 }, { type: 'refund-failed', actor: integration, weight: failedBefore ? 3 : 1.2 });
  } else if (c.refunds.some((r) => r.status === 'failed')) {
    out.push({ type: 'refund-settled', actor: integration, weight: 0.5 });
  }
  if (c.status === 'awaiting_return' && c.pickupRequested && !c.pickup) out.push({ type: 'schedule-pickup', actor: system, weight: 3 });
  const parcel = c.returnParcel;
  if ((c.status === 'awaiting_return' && c.pickup) || (c.status === 'return_in_transit' && parcel?.collectedAt === undefined && parcel?.deliveredAt === undefined)) {
    out.push({ type: 'return-collected', actor: integration, weight: 5 });
  }
  if (c.status === 'return_in_transit' && parcel?.deliveredAt === undefined) out.push({ type: 'return-delivered', actor: integration, weight: 1.5 });
  if (c.status === 'replacement_in_transit' && c.replacementParcel?.deliveredAt === undefined) {
    out.push({ type: 'replacement-delivered', actor: integration, weight: 1.5 });
  }
  if (c.insuranceClaim && !c.insuranceClaim.paid) out.push({ type: 'shipping-insurance-paid', actor: system, weight: 0.7 });
  return out;
}

/** Every sensible next move on a case, weighted; empty once nothing is left to do. */
export function movesFor(w: World, caseId: string, seed: number): Move[] {
  const state = w.state(caseId);
  if (state.status === 'none') return [];
  const options: { type: CaseCommand['type']; actor: Actor; weight: number }[] = [];
  for (const actor of people) {
    for (const type of allowedActions(state, actor, w.now, w.policy, w.buyerFlagged)) {
      // An agent approves only within authority; above it is a 403 the refusal paths cover.
      if (type === 'approve' && actor.role === 'agent' && state.requestedAmount > (actor.authorityLimit ?? 0)) continue;
      options.push({ type, actor, weight: ACTION_WEIGHTS[type] ?? 1 });
    }
  }
  options.push(...awaited(state));
  const moves: Move[] = [];
  for (const { type, actor, weight } of options) {
    const command = payloadFor(w, state, type, actor, seed);
    if (!command) continue;
    const due = command.type === 'deadline-passed' ? Date.parse(command.data.dueAt) : undefined;
    moves.push({ command, caseId, weight, at: due !== undefined && due > w.now.getTime() ? new Date(due) : undefined });
  }
  return moves;
}

/** Picks by weight with `pick` in [0, 1). */
export function pickMove(moves: readonly Move[], pick: number): Move | undefined {
  const total = moves.reduce((s, m) => s + m.weight, 0);
  let left = pick * total;
  for (const m of moves) {
    left -= m.weight;
    if (left < 0) return m;
  }
  return moves[moves.length - 1];
}

/** A second case on the same order, on whichever line the first leaves free, so cases meet on the ledger. */
export function secondRequest(w: World, seed: number): RequestCase | undefined {
  const order = w.order;
  if (!isRegistered(order)) return undefined;
  const free = ['L2', 'L1'].find((lineId) => order.lines.find((l) => l.lineId === lineId)?.heldBy === undefined);
  if (!free) return undefined;
  const stage = order.status;
  const kinds = (Object.keys(KIND_SETUPS) as CaseKind[]).filter((k) => KIND_SETUPS[k].some((s) => s.stage === stage));
  const kind = kinds[seed % kinds.length];
  const reason = KIND_SETUPS[kind].find((s) => s.stage === stage)!.reason;
  const requestedAmount = kind === 'partial_refund' || kind === 'compensation' ? 1_500 : undefined;
  const data: RequestCase['data'] = { caseId: 'c2', orderId: 'o1', kind, reason, lines: [{ lineId: free, quantity: 1 }], requestedAmount, channel: 'app', pickup: seed % 2 === 0 };
  return { type: 'request', actor: ACTORS.buyer, data };
}
