import { isMoneyKind, type Actor } from '../kinds';
import type { Policy } from '../policy';
import { elapsedMs } from '../time';
import type { AfterSalesCase } from './state';
import type { GuardName } from './transitions';

type Guard = (c: AfterSalesCase, actor: Actor, now: Date, policy: Policy) => boolean;

export const GUARDS: Readonly<Record<GuardName, Guard>> = {
  moneyKind: (c) => isMoneyKind(c.kind),
  // A goodwill payout does not bind the buyer to the request: only money for the goods counts.
  noRefundIssued: (c) => !c.refunds.some((r) => r.purpose === 'refund'),
  // The cool-down counts from any urge, the platform's own reminders too: staff were just nudged either way.
  urgeWaitPassed: (c, _actor, now, policy) =>
    elapsedMs(c.statusSince, now) >= policy.urgeMinWait &&
    (c.lastUrgedAt === undefined || elapsedMs(c.lastUrgedAt, now) >= policy.urgeCooldown),
  amendmentsLeft: (c, _actor, _now, policy) => c.amendments < policy.maxAmendments,
  pickupRequested: (c) => c.pickupRequested,
  notYetCollected: (c) => c.returnParcel?.collectedAt === undefined && c.returnParcel?.deliveredAt === undefined,
  unheld: (c) => c.assignee === undefined,
  held: (c) => c.assignee !== undefined,
  heldByCallerOrAdmin: (c, actor) => actor.role === 'admin' || c.assignee === actor.id,
  notWithdrawn: (c) => c.closedReason !== 'withdrawn',
  notRated: (c) => !c.rated,
  refundOutstanding: (c) => c.refunds.some((r) => r.status !== 'settled'),
  insuranceClaimPending: (c) => c.insuranceClaim !== undefined && !c.insuranceClaim.paid,
};

export const guardsHold = (names: readonly GuardName[], c: AfterSalesCase, actor: Actor, now: Date, policy: Policy): boolean =>
  names.every((name) => GUARDS[name](c, actor, now, policy));
