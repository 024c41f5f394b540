import type { ActorRole, CaseStatus } from './kinds';

/** Stable 422 codes; clients branch on them, so never rename one. */
export type BusinessRule =
  | 'amount_above_refundable'
  | 'amount_must_be_positive'
  | 'amount_not_allowed_for_kind'
  | 'amount_not_allowed_for_ruling'
  | 'amount_required_for_kind'
  | 'case_holds_no_lines'
  | 'compensation_cap_exceeded'
  | 'deadline_not_due'
  | 'delivered_before_shipped'
  | 'duplicate_line'
  | 'evidence_required'
  | 'invalid_lines'
  | 'invalid_order'
  | 'invalid_policy'
  | 'invalid_quantity'
  | 'invalid_rating'
  | 'invalid_time'
  | 'kind_not_allowed_now'
  | 'line_held_by_active_case'
  | 'no_reason_not_allowed'
  | 'nothing_refundable'
  | 'offer_not_below_requested'
  | 'outside_after_sales_window'
  | 'outside_warranty_window'
  | 'paid_amount_mismatch'
  | 'pickup_not_requested'
  | 'quantity_above_ordered'
  | 'quantity_above_remaining'
  | 'reason_required'
  | 'note_required'
  | 'refund_amount_required'
  | 'refund_not_given_up'
  | 'tracking_number_in_use'
  | 'tracking_number_mismatch'
  | 'unknown_claim'
  | 'unknown_line'
  | 'unknown_refund';

export type ForbiddenReason = 'held_by_another_agent' | 'above_authority_limit';

export type ConflictReason =
  | 'order_snapshot_differs'
  | 'shipment_differs'
  | 'delivery_differs'
  | 'pickup_already_scheduled'
  | 'policy_scope_mismatch'
  | 'refund_id_taken'
  | 'request_abandoned';

export type Refusal =
  | { type: 'RoleNotPermitted'; action: string; role: ActorRole }
  | { type: 'NotFound'; detail?: string }
  | { type: 'Forbidden'; reason: ForbiddenReason; detail: string }
  | { type: 'ActionNotAllowed'; action: string; status: CaseStatus | 'none' | 'placed' | 'shipped' | 'delivered'; allowedActions: string[] }
  | { type: 'BusinessRuleBroken'; rule: BusinessRule; detail: string }
  | { type: 'Conflict'; reason: ConflictReason; detail: string };

export type RefusalType = Refusal['type'];

export type Decision<E> = { ok: true; events: E[] } | { ok: false; refusal: Refusal };

export const accept = <E>(events: E[]): Decision<E> => ({ ok: true, events });
export const refuse = <E = never>(refusal: Refusal): Decision<E> => ({ ok: false, refusal });
export const broken = <E = never>(rule: BusinessRule, detail: string): Decision<E> =>
  refuse({ type: 'BusinessRuleBroken', rule, detail });

/** The HTTP status API.md gives each refusal class. */
export function refusalStatus(refusal: Refusal): 403 | 404 | 409 | 422 {
  switch (refusal.type) {
    case 'RoleNotPermitted':
    case 'Forbidden':
      return 403;
    case 'NotFound':
      return 404;
    case 'ActionNotAllowed':
    case 'Conflict':
      return 409;
    case 'BusinessRuleBroken':
      return 422;
    default:
      return assertNever(refusal);
  }
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${JSON.stringify(value)}`);
}
