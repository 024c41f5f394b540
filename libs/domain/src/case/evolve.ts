import { REASONS, type CaseKind, type CaseStatus } from '../kinds';
import { sumOf } from '../money';
import { assertNever } from '../refusal';
import type { RecordedCaseEvent } from './events';
import { initialCaseState, type AfterSalesCase, type CaseState } from './state';

/** Where approval leads (transition table, row `approve`). */
export function approvedStatus(kind: CaseKind): CaseStatus {
  switch (kind) {
    case 'refund_only':
    case 'partial_refund':
    case 'compensation':
      return 'refunding';
    case 'return_and_refund':
    case 'exchange':
    case 'repair':
      return 'awaiting_return';
    case 'reship':
      return 'awaiting_replacement';
    default:
      return assertNever(kind);
  }
}

/** Where a passed inspection leads: money owed → refunding, else the merchant's next step. */
export function afterReceiptStatus(c: AfterSalesCase): CaseStatus {
  if (c.ruling?.refundAmount !== undefined) return 'refunding';
  switch (c.kind) {
    case 'refund_only':
    case 'return_and_refund':
    case 'partial_refund':
    case 'compensation':
      return 'refunding';
    case 'exchange':
    case 'reship':
      return 'awaiting_replacement';
    case 'repair':
      return 'in_repair';
    default:
      return assertNever(c.kind);
  }
}

/** Refunds (purpose `refund`) issued so far, whatever became of them. */
export const issuedRefunds = (c: AfterSalesCase): number =>
  sumOf(c.refunds.filter((r) => r.purpose === 'refund').map((r) => r.amount));

// A status change ends the old status's deadlines (DOMAIN.md: a deadline lasts while its status does).
function enter(c: AfterSalesCase, status: CaseStatus, at: string): AfterSalesCase {
  return c.status === status ? c : { ...c, status, statusSince: at, deadlines: {} };
}

const EPOCH = '1970-01-01T00:00:00.000Z';

export function evolveCase(state: CaseState, event: RecordedCaseEvent): CaseState {
  const recordedAt = event.metadata?.occurredAt;
  if (event.type === 'ReturnRequested') {
    const d = event.data;
    // Events without a recorded time only occur in hand-built histories; the epoch keeps them comparable.
    const at = recordedAt ?? EPOCH;
    return {
      status: 'pending_merchant',
      revision: 0,
      caseId: d.caseId,
      orderId: d.orderId,
      buyerId: d.buyerId,
      merchantId: d.merchantId,
      businessLine: d.businessLine,
      kind: d.kind,
      reason: d.reason,
      responsible: d.responsible ?? REASONS[d.reason].responsible,
      department: d.department ?? REASONS[d.reason].department,
      description: d.description,
      evidence: [...(d.evidence ?? [])],
      requestedAmount: d.requestedAmount,
      refunded: 0,
      compensated: 0,
      currency: d.currency,
      lines: d.lines.map((l) => ({ ...l })),
      deadlines: {},
      pickupRequested: d.pickup,
      refunds: [],
      priority: 0,
      requestedAt: at,
      updatedAt: at,
      statusSince: at,
      amendments: 0,
      rated: false,
      payouts: 0,
      expressCovered: 0,
    };
  }
  if (state.status === 'none') return state;
  const at = recordedAt ?? state.updatedAt;
  const c: AfterSalesCase = { ...state, updatedAt: at, revision: state.revision + 1 };
  switch (event.type) {
    case 'AutoReviewApproved':
      return { ...enter(c, approvedStatus(c.kind), at), agreedAmount: event.data.amount, autoReviewRule: event.data.rule };
    case 'MerchantAgreed':
      return { ...enter(c, approvedStatus(c.kind), at), agreedAmount: event.data.amount, offeredAmount: undefined };
    case 'MerchantRejected':
      return enter(c, 'rejected', at);
    case 'MerchantCounterOffered':
      return { ...enter(c, 'negotiating', at), offeredAmount: event.data.amount };
    case 'OfferAccepted':
      return { ...enter(c, 'refunding', at), agreedAmount: event.data.amount, offeredAmount: undefined };
    case 'OfferDeclined':
      return { ...enter(c, 'rejected', at), offeredAmount: undefined };
    case 'OfferLapsed':
    case 'RequestAbandoned':
    case 'CaseWithdrawn':
    case 'CaseNoteAdded':
    case 'CompensationGranted':
    case 'ReturnInspectionFailed':
      return c;
    case 'CaseAmended': {
      const d = event.data;
      return {
        ...enter(c, 'pending_merchant', at),
        amendments: d.amendment,
        description: d.description ?? c.description,
        requestedAmount: d.requestedAmount ?? c.requestedAmount,
        evidence: [...c.evidence, ...(d.evidence ?? []).filter((e) => !c.evidence.includes(e))],
        offeredAmount: undefined,
      };
    }
    case 'CaseUrged':
      return { ...c, priority: event.data.priority, lastUrgedAt: at };
    case 'DeadlineSet':
      return { ...c, deadlines: { ...c.deadlines, [event.data.name]: event.data.dueAt } };
    case 'PickupScheduled':
      return { ...c, pickup: { ...event.data } };
    case 'ReturnShipped': {
      const { carrier, trackingNumber, shippedAt } = event.data;
      return { ...enter(c, 'return_in_transit', at), returnParcel: { carrier, trackingNumber, shippedAt } };
    }
    case 'ReturnCollected': {
      const { trackingNumber, at: collectedAt } = event.data;
      const parcel =
        c.returnParcel?.trackingNumber === trackingNumber
          ? { ...c.returnParcel, collectedAt }
          : { carrier: c.pickup?.carrier ?? 'unknown', trackingNumber, collectedAt };
      return { ...enter(c, 'return_in_transit', at), returnParcel: parcel };
    }
    case 'ReturnDelivered': {
      const { trackingNumber, at: deliveredAt, assumed } = event.data;
      const { returnTransit: _ended, ...deadlines } = c.deadlines;
      const parcel = c.returnParcel ?? { carrier: c.pickup?.carrier ?? 'unknown', trackingNumber };
      return { ...c, deadlines, returnParcel: { ...parcel, deliveredAt, assumedDelivered: assumed } };
    }
    case 'ReturnReceived':
      return event.data.inspection === 'passed'
        ? { ...enter(c, afterReceiptStatus(c), at), inspection: 'passed' }
        : { ...c, inspection: 'failed' };
    case 'ExpressRefundGranted':
      return { ...c, expressCovered: c.expressCovered + event.data.amount };
    case 'RefundIssued': {
      const d = event.data;
      const refunds = [...c.refunds, { ...d, status: 'pending' as const, attempts: 0 }];
      const next = { ...c, refunds, payouts: c.payouts + (d.purpose === 'compensation' ? d.amount : 0) };
      // What was agreed always covers what was issued (an unrepairable item's refund agrees it implicitly).
      return d.purpose === 'refund' ? { ...next, agreedAmount: Math.max(c.agreedAmount ?? 0, issuedRefunds(next)) } : next;
    }
    case 'RefundSettled': {
      const d = event.data;
      const refund = c.refunds.find((r) => r.refundId === d.refundId);
      if (!refund || refund.status === 'settled') return c;
      const refunds = c.refunds.map((r) =>
        r.refundId === d.refundId ? { ...r, status: 'settled' as const, providerRef: d.providerRef, settledAt: d.at } : r,
      );
      return {
        ...c,
        refunds,
        refunded: c.refunded + refund.amount,
        compensated: c.compensated + (refund.purpose === 'compensation' ? refund.amount : 0),
        needsAgent: refunds.some((r) => r.status === 'failed') ? c.needsAgent : undefined,
      };
    }
    case 'RefundFailed': {
      const d = event.data;
      const refunds = c.refunds.map((r) =>
        r.refundId === d.refundId
          ? {
              ...r,
              attempts: Math.max(r.attempts, d.attempt),
              lastError: d.error,
              status: d.final ? ('failed' as const) : r.status,
              retryAfterMs: d.retryAfterMs,
              ...(d.at !== undefined ? { failedAt: [...(r.failedAt ?? []), d.at] } : {}),
            }
          : r,
      );
      return { ...c, refunds, needsAgent: d.final ? 'refund_failed' : c.needsAgent };
    }
    case 'RefundRetried': {
      const d = event.data;
      // Back to outstanding under the same id; attempt numbers go on from where they stopped.
      const refunds = c.refunds.map((r) =>
        r.refundId === d.refundId && r.status === 'failed'
          ? { ...r, status: 'pending' as const, seriesStart: r.attempts, retryAfterMs: undefined }
          : r,
      );
      return { ...c, refunds, needsAgent: refunds.some((r) => r.status === 'failed') ? 'refund_failed' : undefined };
    }
    case 'ShippingInsuranceClaimed':
      return { ...c, insuranceClaim: { claimId: event.data.claimId, amount: event.data.amount, paid: false } };
    case 'ShippingInsurancePaid':
      return c.insuranceClaim ? { ...c, insuranceClaim: { ...c.insuranceClaim, paid: true } } : c;
    case 'ReplacementShipped': {
      const { carrier, trackingNumber, shippedAt } = event.data;
      return { ...enter(c, 'replacement_in_transit', at), replacementParcel: { carrier, trackingNumber, shippedAt } };
    }
    case 'ReplacementDelivered':
      return c.replacementParcel ? { ...c, replacementParcel: { ...c.replacementParcel, deliveredAt: event.data.at } } : c;
    case 'RepairDeclaredUnrepairable':
      return enter(c, 'refunding', at);
    case 'CaseEscalated':
      return { ...enter(c, 'escalated', at), escalationReason: event.data.reason };
    case 'ArbitrationRuled': {
      const { ruling, refundAmount, returnRequired } = event.data;
      const ruled = { ...c, ruling: { ruling, refundAmount, returnRequired } };
      if (ruling === 'merchant') return ruled;
      const agreed = refundAmount === undefined ? c.agreedAmount : issuedRefunds(c) + refundAmount;
      if (returnRequired) {
        // A fresh return: the earlier parcel (if any) is history; tracking checks follow the new one.
        return { ...enter(ruled, 'awaiting_return', at), agreedAmount: agreed, returnParcel: undefined, pickup: undefined };
      }
      return { ...enter(ruled, refundAmount === undefined ? 'awaiting_replacement' : 'refunding', at), agreedAmount: agreed };
    }
    case 'CaseClaimed':
    case 'CaseAssigned':
    case 'CaseTransferred':
      return { ...c, assignee: event.data.agentId };
    case 'CaseReleased':
      return { ...c, assignee: undefined };
    case 'SatisfactionRated': {
      const { score, nps, comment } = event.data;
      return { ...c, rated: true, rating: { score, nps, comment } };
    }
    case 'CaseCompleted':
      return enter(c, 'completed', at);
    case 'CaseClosed':
      return { ...enter(c, 'closed', at), closedReason: event.data.reason };
    default:
      return assertNever(event);
  }
}

export const foldCase = (events: readonly RecordedCaseEvent[], from: CaseState = initialCaseState): CaseState =>
  events.reduce(evolveCase, from);
