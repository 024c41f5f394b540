import { REASONS } from '../kinds';
import { canSeeOrder, findLine } from '../order/state';
import { refuse, type Decision } from '../refusal';
import { allowedActions } from './allowed-actions';
import type { RequestCase } from './commands';
import type { CaseContext } from './context';
import type { CaseEvent } from './events';
import { Outcome, compact } from './outcome';
import { autoReviewRule, checkRequest } from './request-rules';
import type { CaseState } from './state';

/** `request`: opens a case on the order, approving it at once when an auto-review rule matches. */
export function decideRequest(state: CaseState, command: RequestCase, ctx: CaseContext): Decision<CaseEvent> {
  const { actor, data } = command;
  const { order } = ctx;
  // An agent asks on the buyer's behalf; either way the order must be one the caller sees.
  if (!canSeeOrder(order, actor) || order.orderId !== data.orderId) return refuse({ type: 'NotFound', detail: 'unknown order' });
  // A request opens a case: on one that exists it is simply not an allowed action any more.
  if (state.status !== 'none') {
    return refuse({
      type: 'ActionNotAllowed',
      action: 'request',
      status: state.status,
      allowedActions: allowedActions(state, actor, ctx.now, ctx.policy, ctx.buyerFlagged ?? false),
    });
  }
  const checked = checkRequest(order, data, ctx.now, ctx.policy);
  if (!checked.ok) return refuse(checked.refusal);

  const { responsible, department } = REASONS[data.reason];
  const outcome = new Outcome(state, ctx).add({
    type: 'ReturnRequested',
    data: compact({
      caseId: data.caseId,
      orderId: order.orderId,
      buyerId: order.buyerId,
      merchantId: order.merchantId,
      businessLine: order.businessLine,
      kind: data.kind,
      reason: data.reason,
      responsible,
      department,
      description: data.description,
      lines: data.lines.map(({ lineId, quantity }) => {
        const line = findLine(order, lineId)!;
        return { lineId, quantity, productId: line.productId, category: line.category, supplierId: line.supplierId };
      }),
      requestedAmount: checked.amount,
      currency: order.currency,
      evidence: [...(data.evidence ?? [])],
      pickup: data.pickup,
    }),
  });

  const rule = autoReviewRule(order, data.kind, checked.amount, ctx.policy, ctx.buyerFlagged ?? false);
  if (rule !== undefined) {
    outcome.add({ type: 'AutoReviewApproved', data: { rule, amount: checked.amount } });
    if (outcome.case.status === 'refunding') outcome.payDue();
  }
  return outcome.decision();
}
