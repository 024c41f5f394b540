import { broken, type Decision } from '../refusal';
import type { Assign, Claim, Compensate, Note, Release, RetryRefund, Transfer } from './commands';
import type { CaseContext } from './context';
import type { CaseEvent } from './events';
import { Outcome, compact } from './outcome';
import type { AfterSalesCase } from './state';

// Agent work (客服): holds on cases and goodwill payouts. Holds and the
// authority limit were checked by decide before these run.

type Handler<C> = (c: AfterSalesCase, command: C, ctx: CaseContext) => Decision<CaseEvent>;

export const claim: Handler<Claim> = (c, { actor }, ctx) =>
  new Outcome(c, ctx).add({ type: 'CaseClaimed', data: { agentId: actor.id } }).decision();

export const release: Handler<Release> = (c, _command, ctx) =>
  new Outcome(c, ctx).add({ type: 'CaseReleased', data: { agentId: c.assignee ?? '' } }).decision();

export const assign: Handler<Assign> = (c, { data }, ctx) => {
  // Admins assign any open case, held or not; giving it to its holder changes nothing.
  if (data.agentId === c.assignee) return new Outcome(c, ctx).decision();
  return new Outcome(c, ctx).add({ type: 'CaseAssigned', data: { agentId: data.agentId } }).decision();
};

export const transfer: Handler<Transfer> = (c, { data }, ctx) => {
  // Moving a case to the agent who already holds it changes nothing.
  if (data.agentId === c.assignee) return new Outcome(c, ctx).decision();
  return new Outcome(c, ctx).add({ type: 'CaseTransferred', data: { agentId: data.agentId } }).decision();
};

export const note: Handler<Note> = (c, { data }, ctx) => {
  if (!data.text?.trim()) return broken('note_required', 'a note has text');
  return new Outcome(c, ctx).add({ type: 'CaseNoteAdded', data: { text: data.text } }).decision();
};

export const compensate: Handler<Compensate> = (c, { data }, ctx) => {
  if (!Number.isSafeInteger(data.amount) || data.amount < 1) return broken('amount_must_be_positive', 'a payout is at least 1');
  const cap = ctx.policy.compensationCap;
  if (c.payouts + data.amount > cap) {
    return broken('compensation_cap_exceeded', `payouts ${c.payouts} + ${data.amount} exceed the cap of ${cap}`);
  }
  // Not reserved on the order: payouts count against the case's cap, not the goods' price.
  const outcome = new Outcome(c, ctx);
  outcome.add({
    type: 'CompensationGranted',
    data: compact({ refundId: outcome.refundId, amount: data.amount, form: data.form, note: data.note }),
  });
  outcome.issueRefund(data.amount, 'compensation');
  return outcome.decision();
};

/**
 * Sends a refund the payment workers gave up on once more, under its own
 * refundId: the payment centre pays an id at most once, and the order still
 * holds the money reserved for it (a final failure releases nothing), so a
 * retry can neither pay twice nor pay beyond what the order refunds.
 */
export const retryRefund: Handler<RetryRefund> = (c, { actor, data }, ctx) => {
  const refund = c.refunds.find((r) => r.refundId === data.refundId);
  if (!refund) return broken('unknown_refund', `no refund ${data.refundId} on this case`);
  if (refund.status !== 'failed') return broken('refund_not_given_up', `refund ${refund.refundId} is ${refund.status}, not given up`);
  return new Outcome(c, ctx)
    .add({ type: 'RefundRetried', data: compact({ refundId: refund.refundId, by: actor.id, note: data.note }) })
    .decision();
};
