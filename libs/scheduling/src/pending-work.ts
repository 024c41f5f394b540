import type { CaseState, DeadlineName } from '@aftersales/domain';

/** The queues the worker runs; each kind of pending work has one. */
export const QUEUES = {
  deadlines: 'deadlines',
  pickups: 'pickups',
  refunds: 'refunds',
  insurance: 'insurance',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export type PendingWork =
  | { key: string; queue: 'deadlines'; caseId: string; dueAt: number; data: { name: DeadlineName; dueAt: string } }
  | { key: string; queue: 'pickups'; caseId: string; dueAt: number; data: { orderId: string; buyerId: string } }
  | {
      key: string;
      queue: 'refunds';
      caseId: string;
      dueAt: number;
      data: {
        refundId: string;
        orderId: string;
        amount: number;
        currency: string;
        purpose: string;
        express: boolean;
        attempt: number;
        /** The attempt whose failure is final: REFUND_ATTEMPTS into the current series (absent on older jobs: REFUND_ATTEMPTS). */
        lastAttempt?: number;
      };
    }
  | { key: string; queue: 'insurance'; caseId: string; dueAt: number; data: { claimId: string; orderId: string; amount: number; currency: string } };

/** How many times a refund is sent to the payment centre before it goes to the agent pool (DOMAIN.md "Agent work"). */
export const REFUND_ATTEMPTS = 5;
/** Back-off between payment attempts: 30 s, 1 min, 2 min, 4 min, ... capped at 1 h. */
export function refundRetryDelayMs(failedAttempts: number): number {
  return failedAttempts === 0 ? 0 : Math.min(30_000 * 2 ** (failedAttempts - 1), 3_600_000);
}

/** The longest wait between two attempts of one series: the back-off's last step (before the last attempt). */
export const REFUND_LONGEST_WAIT_MS = refundRetryDelayMs(REFUND_ATTEMPTS - 1);

/**
 * The wait before the next attempt after `failedAttempts` of the series: the
 * back-off, or longer when the payment centre asked for it (Retry-After on
 * the failed attempt's last try), but never beyond the back-off's last step,
 * as between the tries of one attempt: a wait of hours would park a refund
 * past the series it has left.
 */
export function refundAttemptDelayMs(failedAttempts: number, retryAfterMs?: number): number {
  const own = refundRetryDelayMs(failedAttempts);
  if (failedAttempts === 0 || retryAfterMs === undefined) return own;
  return Math.max(own, Math.min(retryAfterMs, REFUND_LONGEST_WAIT_MS));
}

/**
 * What a case is waiting for the system to do, as of its state: each running
 * deadline, a door pickup to book, each refund to send (again), an insurance
 * claim to file. A pure function of the state, so the work set of a case is
 * always re-derived rather than remembered: whatever an event ends (a status
 * left, a refund settled) drops out, whatever it starts comes in.
 *
 * Keys name one piece of work for ever and become BullMQ job ids (no `:`):
 * a deadline moved by a later status gets a new key, a refund's next attempt
 * too, so a job that ran is never mistaken for one still owed.
 */
export function pendingWork(state: CaseState): PendingWork[] {
  if (state.status === 'none') return [];
  const { caseId } = state;
  const work: PendingWork[] = [];
  // Deadlines end with their status (evolve clears them); money still owed outlives the case (a payout on a closed case).
  for (const [name, dueAt] of Object.entries(state.deadlines) as [DeadlineName, string][]) {
    const due = Date.parse(dueAt);
    work.push({ key: `deadline-${caseId}-${name}-${due}`, queue: 'deadlines', caseId, dueAt: due, data: { name, dueAt } });
  }
  if (state.status === 'awaiting_return' && state.pickupRequested && !state.pickup) {
    // Once per status entry: a case sent back to awaiting_return later (a ruling) books again.
    const since = Date.parse(state.statusSince);
    work.push({ key: `pickup-${caseId}-${since}`, queue: 'pickups', caseId, dueAt: since, data: { orderId: state.orderId, buyerId: state.buyerId } });
  }
  for (const refund of state.refunds) {
    if (refund.status !== 'pending') continue;
    const lastFailure = refund.failedAt?.at(-1);
    const from = Date.parse(lastFailure ?? state.updatedAt);
    // A person's retry starts a new series; attempt numbers (and so keys) only ever grow.
    const seriesStart = refund.seriesStart ?? 0;
    work.push({
      key: `refund-${refund.refundId}-a${refund.attempts}`,
      queue: 'refunds',
      caseId,
      dueAt: from + refundAttemptDelayMs(refund.attempts - seriesStart, refund.retryAfterMs),
      data: {
        refundId: refund.refundId,
        orderId: state.orderId,
        amount: refund.amount,
        currency: state.currency,
        purpose: refund.purpose,
        express: refund.express,
        attempt: refund.attempts + 1,
        lastAttempt: seriesStart + REFUND_ATTEMPTS,
      },
    });
  }
  const claim = state.insuranceClaim;
  if (claim && !claim.paid) {
    work.push({
      key: `insurance-${claim.claimId}`,
      queue: 'insurance',
      caseId,
      dueAt: Date.parse(state.updatedAt),
      data: { claimId: claim.claimId, orderId: state.orderId, amount: claim.amount, currency: state.currency },
    });
  }
  return work;
}
