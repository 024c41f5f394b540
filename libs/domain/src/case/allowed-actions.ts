import type { Actor } from '../kinds';
import type { Policy } from '../policy';
import { CASE_ACTIONS, type CaseAction } from './commands';
import { guardsHold } from './guards';
import type { CaseState } from './state';
import { TRANSITIONS, rowStartsFrom } from './transitions';
import { canSeeCase, heldByAnotherAgent } from './visibility';

export { inAgentPool, inHolderQueue } from './guards';

/**
 * The user actions the caller may take now: rows matching the status and the
 * caller's role whose conditions on the case hold. Amount limits in command
 * bodies (and an agent's authority) are not conditions on the case, so they
 * are answered by decide (403/422), not hidden here. `buyerFlagged` puts the
 * case in the agent pool, which opens it to agents' work.
 */
export function allowedActions(state: CaseState, actor: Actor, now: Date, policy: Policy, buyerFlagged = false): CaseAction[] {
  if (state.status === 'none') {
    return CASE_ACTIONS.filter((a) => TRANSITIONS.some((r) => r.action === a && r.from === 'none' && r.actors.includes(actor.role)));
  }
  if (!canSeeCase(state, actor) || heldByAnotherAgent(state, actor)) return [];
  const allowed = new Set<string>();
  const g = { actor, now, policy, buyerFlagged };
  for (const row of TRANSITIONS) {
    if (!row.actors.includes(actor.role) || !rowStartsFrom(row, state.status)) continue;
    if (guardsHold(row.guards, state, g)) allowed.add(row.action);
  }
  return CASE_ACTIONS.filter((a) => allowed.has(a));
}
