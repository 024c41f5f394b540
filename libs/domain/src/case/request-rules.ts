import { isMoneyKind, type CaseKind, type Reason } from '../kinds';
import { sumOf } from '../money';
import { findLine, lineRefundable, refundLedger, remainingUnits, type OrderStatus, type RegisteredOrder } from '../order/state';
import type { DurationPolicyName, Policy } from '../policy';
import type { Refusal } from '../refusal';
import { instant } from '../time';
import type { RequestedLine } from './commands';
import type { AutoReviewRule } from './events';

/** What the request rules look at; eligibility asks the same questions with a draft per line and kind. */
export interface RequestDraft {
  kind: CaseKind;
  reason: Reason;
  lines: readonly RequestedLine[];
  requestedAmount?: number;
}

export type RequestCheck = { ok: true; amount: number; refundable: number } | { ok: false; refusal: Refusal };

const broken = (rule: Extract<Refusal, { type: 'BusinessRuleBroken' }>['rule'], detail: string): RequestCheck => ({
  ok: false,
  refusal: { type: 'BusinessRuleBroken', rule, detail },
});

/** DOMAIN.md, *Kinds of case*: "allowed when the order is". */
export function kindAllowedWhen(status: OrderStatus, kind: CaseKind, reason: Reason): boolean {
  switch (kind) {
    case 'refund_only':
      return status !== 'delivered' || reason === 'not_received';
    case 'return_and_refund':
      return status !== 'placed';
    case 'exchange':
    case 'repair':
    case 'reship':
    case 'partial_refund':
      return status === 'delivered';
    case 'compensation':
      return true;
    default: {
      const unknownKind: never = kind;
      return unknownKind;
    }
  }
}

/** The request window after delivery, if the kind has one. */
export function requestWindow(kind: CaseKind, reason: Reason): Extract<DurationPolicyName, 'afterSalesWindow' | 'warrantyWindow'> | undefined {
  if (kind === 'compensation' || (kind === 'refund_only' && reason === 'not_received')) return undefined;
  return kind === 'repair' ? 'warrantyWindow' : 'afterSalesWindow';
}

/** End of the no-reason window for a line, when the line allows no-reason returns and the order was delivered. */
export function noReasonUntil(order: RegisteredOrder, lineId: string, policy: Policy): number | undefined {
  const line = findLine(order, lineId);
  const delivered = order.deliveredAt === undefined ? undefined : instant(order.deliveredAt);
  if (!line?.noReasonReturn || delivered === undefined) return undefined;
  return delivered + policy.noReasonWindow;
}

/**
 * Every rule a request must pass (transition table, row `request`), in the
 * order a buyer would fix them: lines, kind, window, reason, holds, amount.
 * Returns the amount the case asks for (defaulted where DOMAIN.md says so).
 */
export function checkRequest(order: RegisteredOrder, draft: RequestDraft, now: Date, policy: Policy): RequestCheck {
  const { kind, reason, lines } = draft;
  if (lines.length === 0) return broken('invalid_lines', 'a request names at least one line');
  if (new Set(lines.map((l) => l.lineId)).size !== lines.length) return broken('duplicate_line', 'line ids must be distinct');
  for (const { lineId, quantity } of lines) {
    if (!findLine(order, lineId)) return broken('unknown_line', `no line ${lineId} on this order`);
    if (!Number.isSafeInteger(quantity) || quantity < 1) return broken('invalid_quantity', `line ${lineId}: quantity must be at least 1`);
  }

  if (!kindAllowedWhen(order.status, kind, reason)) {
    return broken('kind_not_allowed_now', `${kind} is not allowed while the order is ${order.status}`);
  }
  const window = requestWindow(kind, reason);
  const delivered = order.deliveredAt === undefined ? undefined : instant(order.deliveredAt);
  if (window !== undefined && delivered !== undefined && now.getTime() > delivered + policy[window]) {
    return window === 'warrantyWindow'
      ? broken('outside_warranty_window', 'the warranty window after delivery has passed')
      : broken('outside_after_sales_window', 'the after-sales window after delivery has passed');
  }
  if (reason === 'no_reason_7_days') {
    for (const { lineId } of lines) {
      const until = noReasonUntil(order, lineId, policy);
      if (until === undefined || now.getTime() > until) {
        return broken('no_reason_not_allowed', `line ${lineId} cannot be returned without a reason now`);
      }
    }
  }

  for (const { lineId, quantity } of lines) {
    const line = findLine(order, lineId)!;
    if (kind === 'compensation') {
      // Compensation holds no lines: they are context only, so holds and given-back units do not matter.
      if (quantity > line.quantity) return broken('quantity_above_ordered', `line ${lineId}: ${quantity} asked, ${line.quantity} ordered`);
      continue;
    }
    if (line.heldBy !== undefined) return broken('line_held_by_active_case', `line ${lineId} is held by case ${line.heldBy}`);
    if (quantity > remainingUnits(line)) {
      return broken('quantity_above_remaining', `line ${lineId}: ${quantity} asked, ${remainingUnits(line)} left`);
    }
  }

  const refundable = Math.min(
    sumOf(lines.map((l) => lineRefundable(order, l.lineId, l.quantity))),
    Math.max(0, refundLedger(order).refundable),
  );
  const given = draft.requestedAmount;
  if (!isMoneyKind(kind)) {
    if (given !== undefined) return broken('amount_not_allowed_for_kind', `${kind} asks for no money`);
    return { ok: true, amount: 0, refundable };
  }
  if (given === undefined && (kind === 'partial_refund' || kind === 'compensation')) {
    return broken('amount_required_for_kind', `${kind} needs a requestedAmount`);
  }
  if (given !== undefined && (!Number.isSafeInteger(given) || given < 1)) return broken('amount_must_be_positive', 'requestedAmount is at least 1');
  if (kind === 'compensation') {
    const amount = given ?? 0;
    if (amount > policy.compensationCap) return broken('compensation_cap_exceeded', `compensation is capped at ${policy.compensationCap}`);
    return { ok: true, amount, refundable };
  }
  const amount = given ?? refundable;
  if (amount === 0) return broken('nothing_refundable', 'nothing is left to refund on these lines');
  if (amount > refundable) return broken('amount_above_refundable', `asked ${amount}, refundable ${refundable}`);
  return { ok: true, amount, refundable };
}

/**
 * DOMAIN.md, *Auto-review rules*: the first built-in rule that matches
 * approves in the same append. Each rule is switched per merchant or
 * platform-wide by its policy field; a flagged buyer always gets a person.
 */
export function autoReviewRule(
  order: RegisteredOrder,
  kind: CaseKind,
  amount: number,
  policy: Policy,
  buyerFlagged: boolean,
): AutoReviewRule | undefined {
  if (buyerFlagged) return undefined;
  if (policy.autoReviewRefundBeforeShipment === 1 && kind === 'refund_only' && order.status === 'placed') return 'refund_before_shipment';
  if (
    policy.autoReviewSmallAmount === 1 &&
    (kind === 'refund_only' || kind === 'return_and_refund' || kind === 'partial_refund') &&
    amount <= policy.autoReviewMaxAmount &&
    order.buyerTrustScore >= policy.autoReviewMinTrust
  ) {
    return 'small_amount_trusted_buyer';
  }
  return undefined;
}
