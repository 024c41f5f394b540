import { CASE_KINDS, type CaseKind, type Reason } from './kinds';
import { lineRefundable, remainingUnits, type RegisteredOrder } from './order/state';
import { policyToWire, type Policy, type PolicyWire } from './policy';
import { checkRequest, noReasonUntil } from './case/request-rules';
import { iso } from './time';

export interface LineEligibility {
  lineId: string;
  kinds: CaseKind[];
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

// The most permissive reason for a kind: refund_only after delivery is only for "not received".
const reasonFor = (order: RegisteredOrder, kind: CaseKind): Reason =>
  kind === 'refund_only' && order.status === 'delivered' ? 'not_received' : 'other';

/**
 * What a buyer may ask for on each line now (售后规则展示), answered by the
 * very rules a request is checked against, so the page and the request can
 * never disagree.
 */
export function eligibility(order: RegisteredOrder, now: Date, policy: Policy): Eligibility {
  const lines = order.lines.map((line): LineEligibility => {
    const units = Math.max(1, remainingUnits(line));
    const kinds = CASE_KINDS.filter((kind) => {
      const needsAmount = kind === 'partial_refund' || kind === 'compensation';
      const draft = {
        kind,
        reason: reasonFor(order, kind),
        lines: [{ lineId: line.lineId, quantity: kind === 'compensation' ? 1 : units }],
        requestedAmount: needsAmount ? 1 : undefined,
      };
      return checkRequest(order, draft, now, policy).ok;
    });
    const until = noReasonUntil(order, line.lineId, policy);
    return {
      lineId: line.lineId,
      kinds,
      refundable: remainingUnits(line) > 0 ? lineRefundable(order, line.lineId, remainingUnits(line)) : 0,
      ...(until !== undefined ? { noReasonUntil: iso(until) } : {}),
      ...(line.heldBy !== undefined ? { activeCaseId: line.heldBy } : {}),
    };
  });
  return { orderId: order.orderId, currency: order.currency, lines, policy: policyToWire(policy) };
}
