import type { CaseEvent } from './case/events';
import type { AfterSalesCase, CaseState } from './case/state';
import { GIVING_BACK_KINDS, SYSTEM_ACTOR } from './kinds';
import type { OrderCommand } from './order/commands';

export interface OrderFollowUps {
  /** Append to the order stream first (expected revision); if one is refused, the case command is refused. */
  before: OrderCommand[];
  /** Append after the case events; each is idempotent, so a crash between appends is repaired by retrying. */
  after: OrderCommand[];
}

/**
 * The order-stream commands a case decision requires. Lines are held and
 * money reserved on the order before the case records it, so racing cases on
 * one order never share a line or over-refund.
 *
 * A final RefundFailed releases nothing by itself: the money is still owed,
 * and an agent decides whether to retry or give the refund up.
 */
export function orderCommandsFor(caseBefore: CaseState, events: readonly CaseEvent[], caseAfter: CaseState): OrderFollowUps {
  const before: OrderCommand[] = [];
  const after: OrderCommand[] = [];
  if (caseAfter.status === 'none') return { before, after };
  const { caseId } = caseAfter;
  // The case append that follows expects the revision the decision was made at.
  const caseRevision = caseBefore.status === 'none' ? -1 : caseBefore.revision;
  const purposeOf = (refundId: string) =>
    caseAfter.refunds.find((r) => r.refundId === refundId)?.purpose ??
    (caseBefore.status === 'none' ? undefined : caseBefore.refunds.find((r) => r.refundId === refundId)?.purpose);

  for (const event of events) {
    switch (event.type) {
      case 'ReturnRequested':
        // Compensation is goodwill about the order, not a claim on its lines.
        if (event.data.kind !== 'compensation') {
          before.push({
            type: 'hold-lines',
            actor: SYSTEM_ACTOR,
            data: { caseId, lines: event.data.lines.map(({ lineId, quantity }) => ({ lineId, quantity })), caseRevision },
          });
        }
        break;
      case 'RefundIssued':
        if (event.data.purpose === 'refund') {
          before.push({
            type: 'reserve-refund',
            actor: SYSTEM_ACTOR,
            data: { refundId: event.data.refundId, caseId, amount: event.data.amount, caseRevision },
          });
        }
        break;
      case 'CaseCompleted':
      case 'CaseClosed': {
        const release = releaseLinesOfEnded(caseAfter);
        if (release) after.push(release);
        break;
      }
      case 'RefundSettled':
        if (purposeOf(event.data.refundId) === 'refund') {
          after.push({ type: 'settle-refund-reservation', actor: SYSTEM_ACTOR, data: { refundId: event.data.refundId } });
        }
        break;
      default:
        break;
    }
  }
  return { before, after };
}

/** The release of an ended case's lines: completed refund and return kinds give their units back. */
export function releaseLinesOfEnded(c: AfterSalesCase): OrderCommand | undefined {
  if (c.kind === 'compensation' || (c.status !== 'completed' && c.status !== 'closed')) return undefined;
  const givesBack = c.status === 'completed' && GIVING_BACK_KINDS.includes(c.kind);
  return {
    type: 'release-lines',
    actor: SYSTEM_ACTOR,
    data: { caseId: c.caseId, givenBack: givesBack ? c.lines.map(({ lineId, quantity }) => ({ lineId, quantity })) : [] },
  };
}
