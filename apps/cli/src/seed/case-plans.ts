import type { CaseKind, Channel, OrderSnapshot, Reason, RequestedLine } from '@aftersales/domain';
import type { BusinessLine, Buyer, Cast } from './cast';
import { orderLines } from './cast';
import type { Random } from './random';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export type OrderStage = 'placed' | 'shipped' | 'delivered';

/**
 * What the order system reports for one order: when it was placed, shipped
 * and delivered (absent: not yet, as the seed's history ends).
 */
export interface OrderPlan {
  snapshot: OrderSnapshot;
  placedAt: number;
  shippedAt?: number;
  deliveredAt?: number;
}

/** One buyer request: who asks, on which order and lines, for what and when. */
export interface CasePlan {
  caseId: string;
  order: OrderPlan;
  buyer: Buyer;
  /** An agent files it on the buyer's behalf (phone or chat). */
  onBehalf: boolean;
  at: number;
  kind: CaseKind;
  reason: Reason;
  lines: RequestedLine[];
  requestedAmount?: number;
  pickup: boolean;
  channel: Channel;
}

type Setup = { stage: OrderStage; reason: Reason; weight: number };

/**
 * Which reasons go with each kind, and the order stage it is asked in
 * (DOMAIN.md, *Kinds of case*: refund-only before delivery or for
 * `not_received`; exchange, repair, reship and partial refund once
 * delivered; compensation at any time). Every reason appears somewhere.
 */
const SETUPS: Readonly<Record<CaseKind, readonly Setup[]>> = {
  refund_only: [
    { stage: 'placed', reason: 'changed_mind', weight: 3 },
    { stage: 'placed', reason: 'other', weight: 1 },
    { stage: 'shipped', reason: 'late_delivery', weight: 2 },
    { stage: 'shipped', reason: 'changed_mind', weight: 1 },
    { stage: 'delivered', reason: 'not_received', weight: 3 },
  ],
  return_and_refund: [
    { stage: 'delivered', reason: 'no_reason_7_days', weight: 4 },
    { stage: 'delivered', reason: 'quality_defect', weight: 2 },
    { stage: 'delivered', reason: 'not_as_described', weight: 2 },
    { stage: 'delivered', reason: 'damaged_in_transit', weight: 1 },
    { stage: 'delivered', reason: 'wrong_item', weight: 1 },
    { stage: 'delivered', reason: 'changed_mind', weight: 1 },
    { stage: 'shipped', reason: 'changed_mind', weight: 1 },
  ],
  exchange: [
    { stage: 'delivered', reason: 'wrong_item', weight: 2 },
    { stage: 'delivered', reason: 'quality_defect', weight: 1 },
    { stage: 'delivered', reason: 'changed_mind', weight: 1 },
  ],
  repair: [{ stage: 'delivered', reason: 'quality_defect', weight: 1 }],
  reship: [
    { stage: 'delivered', reason: 'missing_item', weight: 3 },
    { stage: 'delivered', reason: 'damaged_in_transit', weight: 1 },
  ],
  partial_refund: [
    { stage: 'delivered', reason: 'not_as_described', weight: 2 },
    { stage: 'delivered', reason: 'quality_defect', weight: 1 },
    { stage: 'delivered', reason: 'damaged_in_transit', weight: 1 },
    { stage: 'delivered', reason: 'missing_item', weight: 1 },
  ],
  compensation: [
    { stage: 'delivered', reason: 'late_delivery', weight: 2 },
    { stage: 'delivered', reason: 'service_complaint', weight: 2 },
    { stage: 'delivered', reason: 'other', weight: 1 },
    { stage: 'placed', reason: 'service_complaint', weight: 1 },
  ],
};

const KIND_WEIGHTS: readonly { kind: CaseKind; weight: number }[] = [
  { kind: 'refund_only', weight: 22 },
  { kind: 'return_and_refund', weight: 30 },
  { kind: 'exchange', weight: 10 },
  { kind: 'repair', weight: 6 },
  { kind: 'reship', weight: 6 },
  { kind: 'partial_refund', weight: 12 },
  { kind: 'compensation', weight: 8 },
];

/** Abusers ask for money without sending anything back: refund-only "never arrived", or cancel-and-refund. */
const ABUSIVE_SETUPS: readonly { kind: CaseKind; stage: OrderStage; reason: Reason; weight: number }[] = [
  { kind: 'refund_only', stage: 'delivered', reason: 'not_received', weight: 6 },
  { kind: 'refund_only', stage: 'placed', reason: 'changed_mind', weight: 2 },
  { kind: 'return_and_refund', stage: 'delivered', reason: 'no_reason_7_days', weight: 2 },
];

const COMPENSATION_AMOUNTS = [500, 1_000, 2_000, 3_000, 5_000, 8_000] as const;

/** Makes the requests of a seeded run, each with its order. */
export class CasePlanner {
  private orders = 0;

  constructor(
    private readonly cast: Cast,
    private readonly random: Random,
    /** Distinguishes this run's order ids and tracking numbers from another run's on the same store. */
    private readonly runTag: string,
  ) {}

  /** A new order and its first request at `at`. `abusive`: one of the abusive buyers asks. */
  firstRequest(at: number, abusive: boolean): CasePlan {
    const random = this.random;
    const buyer = random.pick(abusive ? this.cast.abusiveBuyers : this.cast.buyers);
    let kind: CaseKind;
    let setup: { stage: OrderStage; reason: Reason };
    if (abusive) {
      const chosen = random.weighted(ABUSIVE_SETUPS)!;
      kind = chosen.kind;
      setup = chosen;
    } else {
      kind = random.weighted(KIND_WEIGHTS)!.kind;
      setup = random.weighted(SETUPS[kind])!;
    }
    const businessLine = random.pick(this.cast.lines);
    const order = this.order(buyer, businessLine, setup.stage, at, kind, setup.reason);
    let reason = setup.reason;
    let candidates = order.snapshot.lines;
    if (reason === 'no_reason_7_days') {
      candidates = candidates.filter((l) => l.noReasonReturn);
      // Nothing on this order may go back without a reason: the buyer names one that fits.
      if (candidates.length === 0) {
        reason = 'changed_mind';
        candidates = order.snapshot.lines;
      }
    }
    const chosenLines = random.chance(0.7) ? [random.pick(candidates)] : candidates;
    const lines = chosenLines.map((l) => ({ lineId: l.lineId, quantity: abusive ? l.quantity : random.int(1, l.quantity) }));
    const share = lines.reduce((sum, l) => {
      const line = chosenLines.find((c) => c.lineId === l.lineId)!;
      return sum + Math.floor((line.paidAmount * l.quantity) / line.quantity);
    }, 0);
    return this.plan(order, buyer, at, kind, reason, lines, this.amount(kind, share, abusive));
  }

  /** A later request on another line of the same order, as buyers do when a second item disappoints. */
  secondRequest(first: CasePlan, at: number): CasePlan | undefined {
    const taken = new Set(first.lines.map((l) => l.lineId));
    const free = first.order.snapshot.lines.filter((l) => !taken.has(l.lineId));
    if (free.length === 0) return undefined;
    const line = this.random.pick(free);
    const delivered = first.order.deliveredAt !== undefined && first.order.deliveredAt <= at;
    const options: { kind: CaseKind; reason: Reason; weight: number }[] = delivered
      ? [
          { kind: 'partial_refund', reason: 'not_as_described', weight: 2 },
          { kind: 'return_and_refund', reason: 'quality_defect', weight: 2 },
          { kind: 'exchange', reason: 'wrong_item', weight: 1 },
          { kind: 'compensation', reason: 'service_complaint', weight: 1 },
        ]
      : [
          { kind: 'compensation', reason: 'late_delivery', weight: 1 },
          { kind: 'refund_only', reason: 'changed_mind', weight: 1 },
        ];
    const { kind, reason } = this.random.weighted(options)!;
    const lines = [{ lineId: line.lineId, quantity: 1 }];
    return this.plan(first.order, first.buyer, at, kind, reason, lines, this.amount(kind, Math.floor(line.paidAmount / line.quantity), false));
  }

  private plan(order: OrderPlan, buyer: Buyer, at: number, kind: CaseKind, reason: Reason, lines: RequestedLine[], requestedAmount: number | undefined): CasePlan {
    const random = this.random;
    const onBehalf = random.chance(0.05);
    return {
      caseId: random.uuidAt(at),
      order,
      buyer,
      onBehalf,
      at,
      kind,
      reason,
      lines,
      requestedAmount,
      pickup: random.chance(0.45),
      channel: onBehalf ? random.pick(['phone', 'im'] as const) : random.chance(0.75) ? 'app' : 'web',
    };
  }

  /** What the buyer asks for: the default (everything refundable) mostly, else part of it; what the kind requires. */
  private amount(kind: CaseKind, share: number, abusive: boolean): number | undefined {
    const random = this.random;
    switch (kind) {
      case 'refund_only':
      case 'return_and_refund':
        return abusive || share < 2 || random.chance(0.75) ? undefined : Math.max(1, Math.floor((share * random.int(40, 90)) / 100));
      case 'partial_refund':
        return Math.max(1, Math.floor((share * random.int(10, 40)) / 100));
      case 'compensation':
        return random.pick(COMPENSATION_AMOUNTS);
      default:
        return undefined;
    }
  }

  /** An order at the stage the request needs at `at`, with reported times before it. */
  private order(buyer: Buyer, line: BusinessLine, stage: OrderStage, at: number, kind: CaseKind, reason: Reason): OrderPlan {
    const random = this.random;
    this.orders += 1;
    const orderId = `so-${this.runTag}-${String(this.orders).padStart(6, '0')}`;
    let placedAt: number;
    let shippedAt: number | undefined;
    let deliveredAt: number | undefined;
    if (stage === 'placed') {
      placedAt = at - random.int(HOUR, 20 * HOUR);
    } else if (stage === 'shipped') {
      shippedAt = at - random.int(2 * DAY, 5 * DAY);
      placedAt = shippedAt - random.int(4 * HOUR, 36 * HOUR);
      // Half of the late parcels arrive after all, while the case runs.
      if (random.chance(0.5)) deliveredAt = at + random.int(DAY, 4 * DAY);
    } else {
      // Within the no-reason window (7 d) or the after-sales window (15 d); repairs long after, within warranty.
      const since = kind === 'repair' ? random.int(20 * DAY, 60 * DAY) : reason === 'no_reason_7_days' ? random.int(2 * HOUR, 6 * DAY) : random.int(2 * HOUR, 12 * DAY);
      deliveredAt = at - since;
      shippedAt = deliveredAt - random.int(DAY, 3 * DAY);
      placedAt = shippedAt - random.int(4 * HOUR, 2 * DAY);
    }
    const lines = orderLines(line, random);
    const shippingFee = random.chance(0.6) ? 0 : random.pick([600, 800, 1_000]);
    const snapshot: OrderSnapshot = {
      orderId,
      buyerId: buyer.actor.id,
      merchantId: random.pick(line.merchants).merchantId!,
      currency: 'CNY',
      paidAmount: lines.reduce((sum, l) => sum + l.paidAmount, 0) + shippingFee,
      shippingFee,
      paymentMethod: random.pick(['alipay', 'wechat_pay', 'card']),
      paymentAccount: buyer.paymentAccount,
      buyerTrustScore: buyer.trustScore,
      returnShippingInsured: random.chance(0.4),
      businessLine: line.name,
      placedAt: new Date(placedAt).toISOString(),
      lines,
    };
    return { snapshot, placedAt, shippedAt, deliveredAt };
  }
}
