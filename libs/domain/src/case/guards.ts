import { isMoneyKind, type Actor } from '../kinds';
import type { Policy } from '../policy';
import { elapsedMs } from '../time';
import type { AfterSalesCase } from './state';
import type { GuardName } from './transitions';

/** What a guard may read besides the case: who asks, when, under which policy, and the buyer's abuse flag. */
export interface GuardContext {
  actor: Actor;
  now: Date;
  policy: Policy;
  buyerFlagged: boolean;
}

type Guard = (c: AfterSalesCase, g: GuardContext) => boolean;

/** A refund the payment workers gave up on and that has not settled since: money owed that only a person moves again. */
export const refundGivenUp = (c: AfterSalesCase): boolean => c.refunds.some((r) => r.status === 'failed');

/**
 * The agent pool of the case's business line (DOMAIN.md, *Agent work*): an
 * unheld case that needs a person — escalated, a refund past its last
 * attempt, or a flagged buyer. A refund given up keeps the case there in any
 * status, an ended one too (a payout outlives its case), until it is retried
 * or settles: nobody else would ever see it.
 */
export function inAgentPool(c: AfterSalesCase, buyerFlagged: boolean): boolean {
  if (c.assignee !== undefined) return false;
  if (refundGivenUp(c)) return true;
  if (c.status === 'completed' || c.status === 'closed') return false;
  return c.status === 'escalated' || buyerFlagged;
}

/**
 * Whether a held case stays in its holder's queue (`/mine`): while it is
 * open, and after it ended while a refund on it is given up — the holder is
 * then the one person who sees it (a held case is not in the pool).
 */
export function inHolderQueue(c: AfterSalesCase): boolean {
  return (c.status !== 'completed' && c.status !== 'closed') || refundGivenUp(c);
}

export const GUARDS: Readonly<Record<GuardName, Guard>> = {
  moneyKind: (c) => isMoneyKind(c.kind),
  // Any money already on its way binds the buyer to the case, a goodwill payout included.
  noRefundIssued: (c) => c.refunds.length === 0,
  // The cool-down counts from any urge, the platform's own reminders too: staff were just nudged either way.
  urgeWaitPassed: (c, { now, policy }) =>
    elapsedMs(c.statusSince, now) >= policy.urgeMinWait &&
    (c.lastUrgedAt === undefined || elapsedMs(c.lastUrgedAt, now) >= policy.urgeCooldown),
  amendmentsLeft: (c, { policy }) => c.amendments < policy.maxAmendments,
  pickupRequested: (c) => c.pickupRequested,
  notYetCollected: (c) => c.returnParcel?.collectedAt === undefined && c.returnParcel?.deliveredAt === undefined,
  unheld: (c) => c.assignee === undefined,
  held: (c) => c.assignee !== undefined,
  heldByCallerOrAdmin: (c, { actor }) => actor.role === 'admin' || c.assignee === actor.id,
  // Agents work on cases they hold and on their line's pool; other roles are not bound by holds.
  agentHoldsOrPool: (c, { actor, buyerFlagged }) =>
    actor.role !== 'agent' || c.assignee === actor.id || inAgentPool(c, buyerFlagged),
  notWithdrawn: (c) => c.closedReason !== 'withdrawn',
  notRated: (c) => !c.rated,
  refundOutstanding: (c) => c.refunds.some((r) => r.status !== 'settled'),
  refundGivenUp,
  insuranceClaimPending: (c) => c.insuranceClaim !== undefined && !c.insuranceClaim.paid,
};

export const guardsHold = (names: readonly GuardName[], c: AfterSalesCase, g: GuardContext): boolean =>
  names.every((name) => GUARDS[name](c, g));
