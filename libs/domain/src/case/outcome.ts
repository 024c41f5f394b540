import type { CaseStatus, ClosedReason, RefundPurpose } from '../kinds';
import { caseRefundable } from '../order/state';
import type { DeadlineName } from '../policy';
import { accept, type Decision } from '../refusal';
import { addMs, iso } from '../time';
import type { CaseContext } from './context';
import type { CaseEvent } from './events';
import { evolveCase, issuedRefunds } from './evolve';
import type { AfterSalesCase, CaseState } from './state';

/** The deadline that runs while a status lasts (DOMAIN.md, *Case statuses*). */
export const STATUS_DEADLINE: Readonly<Partial<Record<CaseStatus, DeadlineName>>> = {
  pending_merchant: 'merchantResponse',
  negotiating: 'buyerOfferResponse',
  rejected: 'buyerAppeal',
  awaiting_return: 'buyerShipBack',
  return_in_transit: 'returnTransit',
  awaiting_replacement: 'merchantShipment',
  in_repair: 'merchantShipment',
  replacement_in_transit: 'replacementAutoComplete',
  escalated: 'platformRulingSla',
};

/** Drops absent optional fields so stored payloads stay minimal JSON. */
export function compact<T extends object>(data: T): T {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Collects one decision's events while folding them, so later steps see the
 * case as the earlier ones left it (refund numbering, status, amounts).
 */
export class Outcome {
  readonly events: CaseEvent[] = [];
  private readonly startStatus: CaseStatus | 'none';
  /** The case stream revision this decision is made at (-1: no case yet). */
  private readonly startRevision: number;

  constructor(
    private state: CaseState,
    readonly ctx: CaseContext,
  ) {
    this.startStatus = state.status;
    this.startRevision = state.status === 'none' ? -1 : state.revision;
  }

  /** The id of the one refund this decision may issue (see `refundIdAt`). */
  get refundId(): string {
    return refundIdAt(this.case.caseId, this.startRevision);
  }

  get case(): AfterSalesCase {
    if (this.state.status === 'none') throw new Error('no case yet');
    return this.state;
  }

  add(...events: CaseEvent[]): this {
    for (const event of events) {
      this.events.push(event);
      this.state = evolveCase(this.state, { ...event, metadata: { occurredAt: iso(this.ctx.now) } });
    }
    return this;
  }

  deadline(name: DeadlineName): this {
    return this.add({ type: 'DeadlineSet', data: { name, dueAt: addMs(this.ctx.now, this.ctx.policy[name]) } });
  }

  /**
   * RefundIssued under this decision's refund id: a decision retried against
   * the same case revision names the same refund, any later one another.
   */
  issueRefund(amount: number, purpose: RefundPurpose, express = false): string {
    const refundId = this.refundId;
    if (this.events.some((e) => e.type === 'RefundIssued')) throw new Error('one decision issues at most one refund');
    this.add({ type: 'RefundIssued', data: { refundId, amount, purpose, express } });
    return refundId;
  }

  complete(): this {
    return this.add({ type: 'CaseCompleted', data: {} });
  }

  close(reason: ClosedReason): this {
    return this.add({ type: 'CaseClosed', data: { reason } });
  }

  /** Money still owed for the goods: what was agreed less what was issued, within the case's refundable. */
  refundDue(): number {
    const c = this.case;
    const due = Math.max(0, (c.agreedAmount ?? 0) - issuedRefunds(c));
    return Math.min(due, caseRefundable(this.ctx.order, c.caseId, c.lines));
  }

  /**
   * In `refunding`: pay what is due (compensation cases pay out within the
   * cap), then complete at once when nothing is left outstanding.
   */
  payDue(amount?: number): this {
    const c = this.case;
    if (c.kind === 'compensation') {
      // The cap is per case: goodwill already paid by an agent shrinks the approved payout.
      const payout = Math.min(amount ?? c.agreedAmount ?? 0, Math.max(0, this.ctx.policy.compensationCap - c.payouts));
      if (payout > 0) this.issueRefund(payout, 'compensation');
    } else {
      const refund = amount ?? this.refundDue();
      if (refund > 0) this.issueRefund(refund, 'refund');
    }
    const after = this.case;
    if (after.status === 'refunding' && after.refunds.every((r) => r.status === 'settled')) this.complete();
    return this;
  }

  /** Ends the decision; entering a status with a deadline adds its DeadlineSet in the same append. */
  decision(): Decision<CaseEvent> {
    const status = this.state.status;
    if (status !== 'none' && status !== this.startStatus) {
      const name = STATUS_DEADLINE[status];
      if (name !== undefined && this.case.deadlines[name] === undefined) this.deadline(name);
    }
    return accept(this.events);
  }
}

/**
 * Refund ids are `<caseId>-r<n>`, n the case stream revision of the
 * decision's first event. Only one append can ever take a revision, so an id
 * names one refund for ever, of one purpose and amount, even when a decision
 * that reserved it lost its race or crashed (docs/decisions.md, *Money*).
 */
export const refundIdAt = (caseId: string, caseRevision: number): string => `${caseId}-r${caseRevision + 1}`;
export const insuranceClaimId = (caseId: string): string => `${caseId}-ins`;
