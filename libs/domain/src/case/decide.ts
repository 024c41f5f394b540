import { refuse, type Decision, type Refusal } from '../refusal';
import { allowedActions } from './allowed-actions';
import { isCaseAction, type CaseCommand } from './commands';
import type { CaseContext } from './context';
import * as agent from './decide-agent';
import * as callbacks from './decide-callbacks';
import * as flow from './decide-flow';
import { decideRequest } from './decide-request';
import type { CaseEvent } from './events';
import type { AfterSalesCase, CaseState } from './state';
import { rolesFor } from './transitions';
import { canSeeCase, heldByAnotherAgent } from './visibility';

/**
 * The case decider. Checks run in API.md's order — 403 role, 404 visibility,
 * 403 object level, 409 allowed actions, 422 rules — so the first failing
 * check answers and a refused command appends nothing.
 */
export function decideCase(state: CaseState, command: CaseCommand, ctx: CaseContext): Decision<CaseEvent> {
  const { actor } = command;
  if (!rolesFor(command.type).includes(actor.role)) {
    return refuse({ type: 'RoleNotPermitted', action: command.type, role: actor.role });
  }
  if (command.type === 'request') return decideRequest(state, command, ctx);
  if (state.status === 'none' || !canSeeCase(state, actor)) return refuse({ type: 'NotFound', detail: 'unknown case' });

  const forbidden = objectLevelRefusal(state, command);
  if (forbidden) return refuse(forbidden);

  if (isCaseAction(command.type)) {
    const allowed = allowedActions(state, actor, ctx.now, ctx.policy, ctx.buyerFlagged ?? false);
    if (!allowed.includes(command.type)) {
      return refuse({ type: 'ActionNotAllowed', action: command.type, status: state.status, allowedActions: allowed });
    }
  }

  const c = state;
  switch (command.type) {
    case 'approve':
      return flow.approve(c, command, ctx);
    case 'reject':
      return flow.reject(c, command, ctx);
    case 'counter-offer':
      return flow.counterOffer(c, command, ctx);
    case 'accept-offer':
      return flow.acceptOffer(c, command, ctx);
    case 'decline-offer':
      return flow.declineOffer(c, command, ctx);
    case 'withdraw':
      return flow.withdraw(c, command, ctx);
    case 'urge':
      return flow.urge(c, command, ctx);
    case 'amend':
      return flow.amend(c, command, ctx);
    case 'ship-return':
      return flow.shipReturn(c, command, ctx);
    case 'confirm-receipt':
      return flow.confirmReceipt(c, command, ctx);
    case 'ship-replacement':
      return flow.shipReplacement(c, command, ctx);
    case 'declare-unrepairable':
      return flow.declareUnrepairable(c, command, ctx);
    case 'confirm-delivery':
      return flow.confirmDelivery(c, command, ctx);
    case 'escalate':
      return flow.escalate(c, command, ctx);
    case 'rule':
      return flow.rule(c, command, ctx);
    case 'rate':
      return flow.rate(c, command, ctx);
    case 'claim':
      return agent.claim(c, command, ctx);
    case 'release':
      return agent.release(c, command, ctx);
    case 'assign':
      return agent.assign(c, command, ctx);
    case 'transfer':
      return agent.transfer(c, command, ctx);
    case 'note':
      return agent.note(c, command, ctx);
    case 'compensate':
      return agent.compensate(c, command, ctx);
    case 'retry-refund':
      return agent.retryRefund(c, command, ctx);
    case 'deadline-passed':
      return callbacks.deadlinePassed(c, command, ctx);
    case 'schedule-pickup':
      return callbacks.schedulePickup(c, command, ctx);
    case 'return-collected':
      return callbacks.returnCollected(c, command, ctx);
    case 'return-delivered':
      return callbacks.returnDelivered(c, command, ctx);
    case 'replacement-delivered':
      return callbacks.replacementDelivered(c, command, ctx);
    case 'refund-settled':
      return callbacks.refundSettled(c, command, ctx);
    case 'refund-failed':
      return callbacks.refundFailed(c, command, ctx);
    case 'shipping-insurance-paid':
      return callbacks.shippingInsurancePaid(c, command, ctx);
    default: {
      const unknownCommand: never = command;
      return unknownCommand;
    }
  }
}

/** Object-level 403s (DOMAIN.md, *Agent work*): another agent's case, or an amount above the agent's authority. */
function objectLevelRefusal(c: AfterSalesCase, command: Exclude<CaseCommand, { type: 'request' }>): Refusal | undefined {
  const { actor } = command;
  if (actor.role !== 'agent') return undefined;
  if (heldByAnotherAgent(c, actor)) {
    return { type: 'Forbidden', reason: 'held_by_another_agent', detail: `case ${c.caseId} is held by another agent` };
  }
  const limit = actor.authorityLimit ?? 0;
  const amount = command.type === 'approve' ? c.requestedAmount : command.type === 'compensate' ? command.data.amount : 0;
  if (amount > limit) {
    return { type: 'Forbidden', reason: 'above_authority_limit', detail: `${amount} is above the authority limit of ${limit}` };
  }
  return undefined;
}
