import type { CaseState } from './case/state';
import { releaseLinesOfEnded } from './effects';
import { SYSTEM_ACTOR } from './kinds';
import type { OrderCommand } from './order/commands';
import { evolveOrder, type OrderState } from './order/state';

/** A case stream as read: its fold and the revision of its last event (-1: no stream). */
export interface CaseOnRecord {
  state: CaseState;
  revision: number;
}

export interface OrderRepair {
  /** Order commands that bring the order in line with the case; each is idempotent. */
  commands: OrderCommand[];
  /**
   * The order holds lines for a case whose stream was never written and
   * whose request could still append it. Releasing them is safe only once
   * that append can no longer succeed: write `RequestAbandoned` to the case
   * stream (expected: no stream) first, then repair again.
   */
  undecidedHold?: { caseId: string; heldAt?: string };
  /** Reservations the case may still record (its stream has not moved since): counted as reserved, left alone. */
  undecidedReservations: string[];
}

/**
 * What the order stream owes one case, decided from both streams
 * (docs/decisions.md, *Money*). Holds and reservations carry the case
 * revision their decision was made at, and the case append that follows
 * expects exactly that revision. So once the case stream has moved past it
 * without recording them, they can never be recorded: release them. While it
 * has not moved, the decision may still land, or be taken over by the same
 * decision retried; nothing is released then.
 *
 * Also the follow-ups a crash may have skipped: the lines of an ended case,
 * the reservation of a settled refund.
 *
 * Read the order first and the case second: a case read later can only be
 * further along, which never turns a recorded hold or reservation into an
 * apparent orphan (streams only grow).
 */
export function repairOrderForCase(order: OrderState, caseId: string, kase: CaseOnRecord): OrderRepair {
  const repair: OrderRepair = { commands: [], undecidedReservations: [] };
  if (order.status === 'none') return repair;
  const c = kase.state.status === 'none' ? undefined : kase.state;

  const hold = order.holds[caseId];
  if (hold?.active) {
    if (c) {
      const release = releaseLinesOfEnded(c);
      if (release) repair.commands.push(release);
    } else if (kase.revision > (hold.caseRevision ?? -1)) {
      // The stream exists but holds no case (RequestAbandoned): the request can never append it.
      repair.commands.push({ type: 'release-lines', actor: SYSTEM_ACTOR, data: { caseId, givenBack: [] } });
    } else {
      repair.undecidedHold = { caseId, heldAt: hold.heldAt };
    }
  }

  const ended = c !== undefined && (c.status === 'completed' || c.status === 'closed');
  for (const reservation of Object.values(order.reservations)) {
    if (reservation.caseId !== caseId || reservation.status !== 'reserved') continue;
    const { refundId } = reservation;
    const issued = c?.refunds.find((r) => r.refundId === refundId && r.purpose === 'refund' && r.amount === reservation.amount);
    if (issued) {
      if (issued.status === 'settled') repair.commands.push({ type: 'settle-refund-reservation', actor: SYSTEM_ACTOR, data: { refundId } });
      continue;
    }
    // Events from before `caseRevision` existed: only an ended case is sure to record no more refunds.
    const moved = reservation.caseRevision === undefined ? ended : kase.revision > reservation.caseRevision;
    if (moved) repair.commands.push({ type: 'release-refund-reservation', actor: SYSTEM_ACTOR, data: { refundId } });
    else repair.undecidedReservations.push(refundId);
  }
  return repair;
}

/**
 * The order as a decision retried at `caseRevision` should see it: money an
 * earlier attempt at that same revision reserved (and may yet record) is
 * not taken from the case, since the retry, drawing the same refund id, can
 * only take that reservation over with the same amount or be refused. The
 * reservations themselves are checked against the real order.
 */
export function orderForRetriedDecision(order: OrderState, caseId: string, caseRevision: number): OrderState {
  if (order.status === 'none') return order;
  const pending = Object.values(order.reservations).filter((r) => r.caseId === caseId && r.status === 'reserved' && r.caseRevision === caseRevision);
  return pending.reduce<OrderState>(
    (state, r) => evolveOrder(state, { type: 'RefundReservationReleased', data: { refundId: r.refundId, amount: r.amount } }),
    order,
  );
}
