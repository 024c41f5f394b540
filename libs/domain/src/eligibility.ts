import { CASE_KINDS, CASE_REASONS, type CaseKind, type Reason } from './kinds';
import { lineRefundable, remainingUnits, type OrderLine, type RegisteredOrder } from './order/state';
import { policyToWire, type Policy, type PolicyWire } from './policy';
import { checkRequest, noReasonUntil, type RequestDraft } from './case/request-rules';
import { iso } from './time';

export interface LineEligibility {
  lineId: string;
  /** Kinds a request on this line is accepted with now, for at least one reason. */
  kinds: CaseKind[];
  /** For each kind in `kinds`, exactly the reasons it is accepted with now. */
  reasons: Partial<Record<CaseKind, Reason[]>>;
  refundable: number;
  noReasonUntil?: string;
  activeCaseId?: string;
}

export interface Eligibility {
  orderId: string;
  currency: string;
  lines: LineEligibility[];
  policy: PolicyWire;
}

/**
 * The request a buyer would send for `kind` on this line alone: every unit
 * still there (one for compensation, which holds no lines), and the
 * smallest amount where the kind needs one.
 */
function draftFor(line: OrderLine, kind: CaseKind, reason: Reason): RequestDraft {
  const needsAmount = kind === 'partial_refund' || kind === 'compensation';
  return {
    kind,
    reason,
    lines: [{ lineId: line.lineId, quantity: kind === 'compensation' ? 1 : Math.max(1, remainingUnits(line)) }],
    requestedAmount: needsAmount ? 1 : undefined,
  };
}

/**
 * What a buyer may ask for on each line now (售后规则展示). Every kind and
 * reason goes through checkRequest, the rule function the request itself is
 * decided by, so a kind is offered only with the reasons a request would be
 * accepted with (refund_only on a delivered order: `not_received` alone).
 */
export function eligibility(order: RegisteredOrder, now: Date, policy: Policy): Eligibility {
  const lines = order.lines.map((line): LineEligibility => {
    const reasons: Partial<Record<CaseKind, Reason[]>> = {};
    for (const kind of CASE_KINDS) {
      const accepted = CASE_REASONS.filter((reason) => checkRequest(order, draftFor(line, kind, reason), now, policy).ok);
      if (accepted.length > 0) reasons[kind] = accepted;
    }
    const until = noReasonUntil(order, line.lineId, policy);
    return {
      lineId: line.lineId,
      kinds: CASE_KINDS.filter((kind) => reasons[kind] !== undefined),
      reasons,
      refundable: remainingUnits(line) > 0 ? lineRefundable(order, line.lineId, remainingUnits(line)) : 0,
      ...(until !== undefined ? { noReasonUntil: iso(until) } : {}),
      ...(line.heldBy !== undefined ? { activeCaseId: line.heldBy } : {}),
    };
  });
  return { orderId: order.orderId, currency: order.currency, lines, policy: policyToWire(policy) };
}
