import {
  COMPENSATION_FORMS,
  DISPOSITIONS,
  allowedActions,
  caseRefundable,
  inAgentPool,
  type Actor,
  type AfterSalesCase,
  type CaseCommand,
  type CaseCommandType,
  type DeadlineName,
  type OrderState,
  type Policy,
} from '@aftersales/domain';
import { DAY, HOUR } from './case-plans';
import type { BusinessLine, Cast } from './cast';
import type { Random } from './random';

// What the parties of one case do next, and when: people choose among the
// actions the domain allows them now (allowedActions), couriers and the
// payment centre answer what the case waits for, and a deadline fires at its
// due time when nobody acted first.

/** A move chosen for later: its payload is made when it happens, from the case as it is then. */
export interface PlannedMove {
  type: CaseCommandType;
  actor: Actor;
  /** For `deadline-passed`. */
  deadline?: { name: DeadlineName; dueAt: string };
}

/** How often each person's action is taken when allowed: moving a case along beats desk work and early exits. */
const PEOPLE_WEIGHTS: Partial<Record<Actor['role'], Partial<Record<CaseCommandType, number>>>> = {
  buyer: {
    'accept-offer': 3,
    'decline-offer': 1,
    withdraw: 0.25,
    urge: 0.4,
    amend: 0.8,
    'ship-return': 4,
    'confirm-delivery': 2,
    escalate: 1.5,
    rate: 1.3,
  },
  merchant: { approve: 5, reject: 1.2, 'counter-offer': 1.5, 'ship-replacement': 4, 'declare-unrepairable': 1.2 },
  arbitrator: { rule: 6, note: 0.4 },
  admin: { assign: 0.05, transfer: 0.03, release: 0.03, note: 0.02 },
};

/** An agent works the pool and their own queue; elsewhere they rarely step in. */
const AGENT_WEIGHTS_IN_POOL: Partial<Record<CaseCommandType, number>> = { claim: 2, approve: 2, compensate: 0.8, note: 0.6, release: 0.2 };
const AGENT_WEIGHTS_ELSEWHERE: Partial<Record<CaseCommandType, number>> = { claim: 0.04, note: 0.05, compensate: 0.05, approve: 0.3, release: 0.3 };

/** How often a deadline is what decides, rather than the party it waits for. */
const DEADLINE_WEIGHTS: Readonly<Record<DeadlineName, number>> = {
  merchantResponse: 0.9,
  buyerOfferResponse: 0.8,
  buyerAppeal: 2,
  buyerShipBack: 0.35,
  returnTransit: 0.5,
  merchantReceipt: 0.9,
  merchantShipment: 0.35,
  replacementAutoComplete: 2,
  platformRulingSla: 0.4,
};

/** How long each party takes to act: [shortest, longest]. */
function delayRange(type: CaseCommandType, role: Actor['role']): [number, number] {
  switch (type) {
    case 'refund-settled':
      return [2 * 60_000, 4 * HOUR];
    case 'refund-failed':
      return [60_000, HOUR];
    case 'schedule-pickup':
      return [10 * 60_000, 3 * HOUR];
    case 'return-collected':
      return [4 * HOUR, 2 * DAY];
    case 'return-delivered':
    case 'replacement-delivered':
      return [DAY, 4 * DAY];
    case 'shipping-insurance-paid':
      return [HOUR, 2 * DAY];
    case 'ship-return':
      return [3 * HOUR, 4 * DAY];
    case 'confirm-receipt':
      return [2 * HOUR, 5 * DAY];
    case 'ship-replacement':
      return [4 * HOUR, 3 * DAY];
    case 'declare-unrepairable':
      return [DAY, 3 * DAY];
    case 'confirm-delivery':
      return [2 * HOUR, 5 * DAY];
    case 'urge':
      return [0, 6 * HOUR];
    case 'rate':
      return [HOUR, 3 * DAY];
    default:
      break;
  }
  switch (role) {
    case 'merchant':
      return [30 * 60_000, 40 * HOUR];
    case 'agent':
      return [5 * 60_000, 8 * HOUR];
    case 'arbitrator':
      return [2 * HOUR, 60 * HOUR];
    case 'admin':
      return [30 * 60_000, DAY];
    default:
      return [HOUR, 3 * DAY];
  }
}

export const SYSTEM: Actor = { role: 'system', id: 'worker' };
export const LOGISTICS: Actor = { role: 'integration', id: 'logistics' };
export const PAYMENTS: Actor = { role: 'integration', id: 'payments' };

/** The payment centre gives up after its third attempt: the refund goes to the agent pool. */
export const LAST_REFUND_ATTEMPT = 3;

interface Candidate extends PlannedMove {
  weight: number;
}

export interface Scheduled {
  move: PlannedMove;
  at: number;
}

export class MoveChooser {
  constructor(
    private readonly cast: Cast,
    private readonly random: Random,
  ) {}

  /**
   * The case's next move and when it happens, or undefined when nothing more
   * happens to it before `end` (an open case then stays open, as live ones are).
   */
  next(c: AfterSalesCase, now: number, end: number, policy: Policy, buyerFlagged: boolean): Scheduled | undefined {
    const options: { weight: number; move?: Candidate }[] = this.candidates(c, new Date(now), policy, buyerFlagged).map((move) => ({ weight: move.weight, move }));
    // An ended case may still be rated or have a payout to settle; or the buyer just moves on and nothing more happens.
    if (c.status === 'completed' || c.status === 'closed') options.push({ weight: 1 });
    const chosen = this.random.weighted(options)?.move;
    if (!chosen) return undefined;

    const deadlines = Object.entries(c.deadlines).map(([name, dueAt]) => ({ name: name as DeadlineName, due: Date.parse(dueAt!) }));
    const earliest = deadlines.reduce<{ name: DeadlineName; due: number } | undefined>((e, d) => (e === undefined || d.due < e.due ? d : e), undefined);
    let at: number;
    if (chosen.deadline) {
      at = Math.max(now, Date.parse(chosen.deadline.dueAt));
    } else {
      const [shortest, longest] = delayRange(chosen.type, chosen.actor.role);
      at = now + this.random.int(shortest, longest);
      // People who act do so before the deadline; acting after it would be too late.
      if (earliest && at >= earliest.due && earliest.due > now) at = now + Math.floor((earliest.due - now) * (0.1 + 0.85 * this.random.next()));
    }
    if (at <= end) return { move: chosen, at };
    // Beyond the end of the history nobody acted yet; a deadline due before it has fired by then.
    if (earliest && earliest.due <= end) {
      return { move: { type: 'deadline-passed', actor: SYSTEM, deadline: { name: earliest.name, dueAt: c.deadlines[earliest.name]! } }, at: Math.max(now, earliest.due) };
    }
    return undefined;
  }

  private candidates(c: AfterSalesCase, now: Date, policy: Policy, buyerFlagged: boolean): Candidate[] {
    const out: Candidate[] = [];
    const line = this.lineOf(c);
    const pool = inAgentPool(c, buyerFlagged);
    const agent = line.agents.find((a) => a.id === c.assignee) ?? this.random.pick(line.agents);
    const people: Actor[] = [{ role: 'buyer', id: c.buyerId }, this.merchantOf(c, line), agent, this.random.pick(this.cast.arbitrators), this.cast.admin];
    for (const actor of people) {
      const weights = actor.role === 'agent' ? (pool || c.assignee === actor.id ? AGENT_WEIGHTS_IN_POOL : AGENT_WEIGHTS_ELSEWHERE) : (PEOPLE_WEIGHTS[actor.role] ?? {});
      for (const type of allowedActions(c, actor, now, policy, buyerFlagged)) {
        let weight = weights[type] ?? 0;
        // An agent approves only within authority (above it is a 403); a merchant confirms receipt once the parcel arrived.
        if (type === 'approve' && actor.role === 'agent' && c.requestedAmount > (actor.authorityLimit ?? 0)) continue;
        if (type === 'confirm-receipt') weight = c.returnParcel?.deliveredAt !== undefined ? 4 : 0.2;
        if (type === 'escalate' && c.status === 'rejected') weight = 1.5;
        if (weight > 0) out.push({ type, actor, weight });
      }
    }
    out.push(...this.awaited(c));
    for (const [name, dueAt] of Object.entries(c.deadlines)) {
      const deadline = name as DeadlineName;
      out.push({ type: 'deadline-passed', actor: SYSTEM, weight: DEADLINE_WEIGHTS[deadline], deadline: { name: deadline, dueAt: dueAt! } });
    }
    return out;
  }

  /** The callbacks a case waits for: what couriers, the payment centre and the worker's bookings would send. */
  private awaited(c: AfterSalesCase): Candidate[] {
    const out: Candidate[] = [];
    const open = c.refunds.filter((r) => r.status !== 'settled');
    if (open.some((r) => r.attempts < LAST_REFUND_ATTEMPT)) {
      out.push({ type: 'refund-settled', actor: PAYMENTS, weight: 10 }, { type: 'refund-failed', actor: PAYMENTS, weight: 0.9 });
    } else if (open.length > 0) {
      // Given up by the payment centre: an agent has it paid by other means, eventually.
      out.push({ type: 'refund-settled', actor: PAYMENTS, weight: 0.4 });
    }
    if (c.status === 'awaiting_return' && c.pickupRequested && !c.pickup) out.push({ type: 'schedule-pickup', actor: SYSTEM, weight: 6 });
    const parcel = c.returnParcel;
    if ((c.status === 'awaiting_return' && c.pickup) || (c.status === 'return_in_transit' && parcel?.collectedAt === undefined && parcel?.deliveredAt === undefined)) {
      out.push({ type: 'return-collected', actor: LOGISTICS, weight: 5 });
    }
    if (c.status === 'return_in_transit' && parcel?.deliveredAt === undefined) out.push({ type: 'return-delivered', actor: LOGISTICS, weight: 2.5 });
    if (c.status === 'replacement_in_transit' && c.replacementParcel?.deliveredAt === undefined) {
      out.push({ type: 'replacement-delivered', actor: LOGISTICS, weight: 2.5 });
    }
    if (c.insuranceClaim && !c.insuranceClaim.paid) out.push({ type: 'shipping-insurance-paid', actor: SYSTEM, weight: 2 });
    return out;
  }

  private lineOf(c: AfterSalesCase): BusinessLine {
    return this.cast.lines.find((l) => l.name === c.businessLine) ?? this.cast.lines[0];
  }

  private merchantOf(c: AfterSalesCase, line: BusinessLine): Actor {
    return line.merchants.find((m) => m.merchantId === c.merchantId) ?? { role: 'merchant', id: `${c.merchantId}-staff`, merchantId: c.merchantId };
  }
}

const REJECT_REASONS = ['item shows signs of use', 'tags removed', 'photos do not show the defect', 'outside the return conditions'];
const ESCALATE_REASONS = ['the seller refused a valid request', 'the offer is too low', 'the item was defective on arrival'];
const CARRIERS = ['SF', 'YTO', 'ZTO', 'JD'];

/**
 * The command for a planned move, with values that pass the rules where the
 * case allows the move at all (amounts within what is refundable, the cap
 * and the agent's authority; the case's own tracking numbers and refunds).
 * `order` is read only for the moves that need it (`rule`).
 */
export function commandFor(
  move: PlannedMove,
  c: AfterSalesCase,
  context: { now: Date; policy: Policy; random: Random; trackingNumber: () => string; order?: OrderState },
): CaseCommand | undefined {
  const { actor } = move;
  const { random, now, policy } = context;
  const at = now.toISOString();
  switch (move.type) {
    case 'approve':
      return { type: 'approve', actor, data: random.chance(0.2) ? { note: 'approved after checking the photos' } : {} };
    case 'reject':
      return { type: 'reject', actor, data: { reason: random.pick(REJECT_REASONS) } };
    case 'counter-offer': {
      if (c.requestedAmount < 2) return undefined;
      return { type: 'counter-offer', actor, data: { amount: Math.max(1, Math.floor((c.requestedAmount * random.int(30, 80)) / 100)), note: 'we can offer part of it' } };
    }
    case 'accept-offer':
    case 'decline-offer':
    case 'withdraw':
    case 'urge':
    case 'confirm-delivery':
    case 'claim':
    case 'release':
      return { type: move.type, actor, data: {} };
    case 'amend': {
      const lower = c.requestedAmount > 1 && (c.kind === 'refund_only' || c.kind === 'return_and_refund' || c.kind === 'partial_refund' || c.kind === 'compensation');
      return {
        type: 'amend',
        actor,
        data: {
          description: 'more photos of the problem attached',
          evidence: [`https://img.example/${c.caseId}/${c.amendments + 1}.jpg`],
          ...(lower && random.chance(0.5) ? { requestedAmount: Math.max(1, Math.floor((c.requestedAmount * 3) / 4)) } : {}),
        },
      };
    }
    case 'ship-return':
      return { type: 'ship-return', actor, data: { carrier: random.pick(CARRIERS), trackingNumber: context.trackingNumber() } };
    case 'ship-replacement':
      return { type: 'ship-replacement', actor, data: { carrier: random.pick(CARRIERS), trackingNumber: context.trackingNumber() } };
    case 'confirm-receipt':
      return random.chance(0.12)
        ? { type: 'confirm-receipt', actor, data: { inspection: 'failed', evidence: [`https://img.example/${c.caseId}/inspection.jpg`], note: 'item damaged by the buyer' } }
        : { type: 'confirm-receipt', actor, data: { inspection: 'passed', disposition: random.pick(DISPOSITIONS) } };
    case 'declare-unrepairable':
      return { type: 'declare-unrepairable', actor, data: { note: 'no spare parts available' } };
    case 'escalate':
      return { type: 'escalate', actor, data: { reason: random.pick(ESCALATE_REASONS) } };
    case 'rule':
      return { type: 'rule', actor, data: ruling(c, policy, random, context.order) };
    case 'assign':
    case 'transfer':
      return { type: move.type, actor, data: { agentId: `agent-${c.businessLine}-${random.int(1, 3)}` } };
    case 'note':
      return { type: 'note', actor, data: { text: random.pick(['called the buyer', 'asked the merchant for the courier receipt', 'checked the photos']) } };
    case 'compensate': {
      const room = Math.min(actor.authorityLimit ?? 0, policy.compensationCap - c.payouts);
      if (room < 1) return undefined;
      return { type: 'compensate', actor, data: { amount: Math.max(1, Math.floor((room * random.pick([10, 30, 50])) / 100)), form: random.pick(COMPENSATION_FORMS), note: 'goodwill for the trouble' } };
    }
    case 'retry-refund': {
      const givenUp = c.refunds.find((r) => r.status === 'failed');
      return givenUp ? { type: 'retry-refund', actor, data: { refundId: givenUp.refundId, note: 'the buyer gave a new account' } } : undefined;
    }
    case 'rate':
      return { type: 'rate', actor, data: rating(c, random) };
    case 'deadline-passed':
      return move.deadline ? { type: 'deadline-passed', actor, data: move.deadline } : undefined;
    case 'schedule-pickup':
      return {
        type: 'schedule-pickup',
        actor,
        data: { carrier: random.pick(CARRIERS), trackingNumber: context.trackingNumber(), windowStart: at, windowEnd: new Date(now.getTime() + 4 * HOUR).toISOString() },
      };
    case 'return-collected':
    case 'return-delivered': {
      const trackingNumber = c.returnParcel?.trackingNumber ?? c.pickup?.trackingNumber;
      return trackingNumber ? { type: move.type, actor, data: { trackingNumber, at } } : undefined;
    }
    case 'replacement-delivered':
      return { type: 'replacement-delivered', actor, data: { trackingNumber: c.replacementParcel?.trackingNumber, at } };
    case 'refund-settled':
    case 'refund-failed': {
      const open = c.refunds.filter((r) => r.status !== 'settled');
      if (open.length === 0) return undefined;
      const refund = open[0];
      if (move.type === 'refund-settled') return { type: 'refund-settled', actor, data: { refundId: refund.refundId, providerRef: `pay-${refund.refundId}`, at } };
      const attempt = refund.attempts + 1;
      if (attempt > LAST_REFUND_ATTEMPT) return undefined;
      return { type: 'refund-failed', actor, data: { refundId: refund.refundId, error: random.pick(['bank timeout', 'account frozen', 'channel unavailable']), attempt, final: attempt >= LAST_REFUND_ATTEMPT, at } };
    }
    case 'shipping-insurance-paid':
      return c.insuranceClaim ? { type: 'shipping-insurance-paid', actor, data: { claimId: c.insuranceClaim.claimId, amount: c.insuranceClaim.amount } } : undefined;
    case 'request':
      return undefined;
    default: {
      const unknown: never = move.type;
      return unknown;
    }
  }
}

/** An arbitrator's ruling: for the merchant, or for the buyer with an amount the case allows. */
function ruling(c: AfterSalesCase, policy: Policy, random: Random, order: OrderState | undefined): Extract<CaseCommand, { type: 'rule' }>['data'] {
  if (random.chance(0.3)) return { ruling: 'merchant', note: 'the evidence supports the merchant' };
  const goodsOnly = c.kind === 'exchange' || c.kind === 'repair' || c.kind === 'reship';
  const lines = c.lines.map(({ lineId, quantity }) => ({ lineId, quantity }));
  const room = c.kind === 'compensation' ? policy.compensationCap - c.payouts : order ? caseRefundable(order, c.caseId, lines) : 0;
  if (goodsOnly && (random.chance(0.5) || room < 1)) return { ruling: 'buyer', returnRequired: false, note: 'the merchant sends the item again' };
  if (room < 1) return { ruling: 'merchant', note: 'nothing is left to pay on this order' };
  const returnRequired = (c.kind === 'return_and_refund' || goodsOnly) && random.chance(0.35);
  const share = random.pick([100, 100, 50, 30]);
  return { ruling: 'buyer', refundAmount: Math.max(1, Math.floor((room * share) / 100)), returnRequired, note: 'the buyer is refunded' };
}

/** Satisfaction follows the outcome: money back pleases, a refusal does not. */
function rating(c: AfterSalesCase, random: Random): { score: number; nps?: number; comment?: string } {
  const happy = c.status === 'completed' && (c.refunded > 0 || c.kind === 'exchange' || c.kind === 'repair' || c.kind === 'reship');
  const score = happy ? random.pick([3, 4, 4, 5, 5, 5]) : random.pick([1, 1, 2, 2, 3, 4]);
  const nps = random.chance(0.7) ? Math.min(10, Math.max(0, score * 2 + random.int(-2, 1))) : undefined;
  const comment = random.chance(0.25) ? (happy ? 'quick and easy' : 'took too long and nobody listened') : undefined;
  return { score, ...(nps !== undefined ? { nps } : {}), ...(comment !== undefined ? { comment } : {}) };
}
