import { caseRefundable, isRegistered } from '../order/state';
import { broken, type Decision } from '../refusal';
import { iso } from '../time';
import type {
  AcceptOffer,
  Amend,
  Approve,
  ConfirmDelivery,
  ConfirmReceipt,
  CounterOffer,
  DeclareUnrepairable,
  DeclineOffer,
  Escalate,
  Rate,
  Reject,
  Rule,
  ShipReplacement,
  ShipReturn,
  Urge,
  Withdraw,
} from './commands';
import type { CaseContext } from './context';
import type { CaseEvent, ReturnReceived } from './events';
import { Outcome, compact, insuranceClaimId } from './outcome';
import type { AfterSalesCase } from './state';

// Handlers for the parties' own steps. decide has already checked role,
// visibility, holds and allowedActions; what is left are rules on the values.

type Handler<C> = (c: AfterSalesCase, command: C, ctx: CaseContext) => Decision<CaseEvent>;

const lineQuantities = (c: AfterSalesCase) => c.lines.map(({ lineId, quantity }) => ({ lineId, quantity }));

export const approve: Handler<Approve> = (c, _command, ctx) => {
  const outcome = new Outcome(c, ctx).add({ type: 'MerchantAgreed', data: { amount: c.requestedAmount, auto: false } });
  if (outcome.case.status === 'refunding') outcome.payDue();
  return outcome.decision();
};

export const reject: Handler<Reject> = (c, { data }, ctx) => {
  if (!data.reason?.trim()) return broken('reason_required', 'a rejection gives a reason');
  return new Outcome(c, ctx).add({ type: 'MerchantRejected', data: compact({ reason: data.reason, note: data.note }) }).decision();
};

export const counterOffer: Handler<CounterOffer> = (c, { data }, ctx) => {
  if (!Number.isSafeInteger(data.amount) || data.amount < 1) return broken('amount_must_be_positive', 'an offer is at least 1');
  if (data.amount >= c.requestedAmount) {
    return broken('offer_not_below_requested', `an offer is below the requested ${c.requestedAmount}`);
  }
  return new Outcome(c, ctx)
    .add({ type: 'MerchantCounterOffered', data: compact({ amount: data.amount, note: data.note }) })
    .decision();
};

export const acceptOffer: Handler<AcceptOffer> = (c, _command, ctx) =>
  new Outcome(c, ctx).add({ type: 'OfferAccepted', data: { amount: c.offeredAmount ?? 0 } }).payDue().decision();

export const declineOffer: Handler<DeclineOffer> = (c, _command, ctx) =>
  new Outcome(c, ctx).add({ type: 'OfferDeclined', data: {} }).decision();

export const withdraw: Handler<Withdraw> = (c, _command, ctx) =>
  new Outcome(c, ctx).add({ type: 'CaseWithdrawn', data: {} }).close('withdrawn').decision();

export const urge: Handler<Urge> = (c, _command, ctx) =>
  new Outcome(c, ctx)
    .add({ type: 'CaseUrged', data: { waitingFor: c.status === 'escalated' ? 'platform' : 'merchant', priority: c.priority + 1 } })
    .decision();

export const amend: Handler<Amend> = (c, { data }, ctx) => {
  const amount = data.requestedAmount;
  if (amount !== undefined) {
    if (c.kind === 'exchange' || c.kind === 'repair' || c.kind === 'reship') {
      return broken('amount_not_allowed_for_kind', `${c.kind} asks for no money`);
    }
    if (!Number.isSafeInteger(amount) || amount < 1) return broken('amount_must_be_positive', 'requestedAmount is at least 1');
    if (c.kind === 'compensation') {
      if (amount > ctx.policy.compensationCap) return broken('compensation_cap_exceeded', `compensation is capped at ${ctx.policy.compensationCap}`);
    } else {
      const refundable = caseRefundable(ctx.order, c.caseId, lineQuantities(c));
      if (amount > refundable) return broken('amount_above_refundable', `asked ${amount}, refundable ${refundable}`);
    }
  }
  return new Outcome(c, ctx)
    .add({
      type: 'CaseAmended',
      data: compact({ description: data.description, requestedAmount: amount, evidence: data.evidence, amendment: c.amendments + 1 }),
    })
    .decision();
};

export const escalate: Handler<Escalate> = (c, { data }, ctx) => {
  if (!data.reason?.trim()) return broken('reason_required', 'an escalation gives a reason');
  return new Outcome(c, ctx).add({ type: 'CaseEscalated', data: { reason: data.reason } }).decision();
};

/**
 * 运费险: claimed once, with the first parcel event. The order's shipping fee
 * stands for the return fee (the insurer's tariff is not known here); an order
 * shipped free has nothing to claim.
 */
export function claimShippingInsurance(outcome: Outcome): void {
  const c = outcome.case;
  const order = outcome.ctx.order;
  if (c.insuranceClaim || !isRegistered(order) || !order.returnShippingInsured || order.shippingFee <= 0) return;
  outcome.add({ type: 'ShippingInsuranceClaimed', data: { claimId: insuranceClaimId(c.caseId), amount: order.shippingFee } });
}

export const shipReturn: Handler<ShipReturn> = (c, { data }, ctx) => {
  const outcome = new Outcome(c, ctx).add({
    type: 'ReturnShipped',
    data: { carrier: data.carrier, trackingNumber: data.trackingNumber, shippedAt: iso(ctx.now) },
  });
  claimShippingInsurance(outcome);
  return outcome.decision();
};

/** A passed inspection (by the merchant or by the merchantReceipt timer): pay what is left, or the merchant's next step. */
export function receivePassed(outcome: Outcome, received: ReturnReceived): Outcome {
  outcome.add(received);
  if (outcome.case.status === 'refunding') outcome.payDue();
  return outcome;
}

export const confirmReceipt: Handler<ConfirmReceipt> = (c, { data }, ctx) => {
  const outcome = new Outcome(c, ctx);
  if (data.inspection === 'passed') {
    return receivePassed(
      outcome,
      { type: 'ReturnReceived', data: compact({ inspection: 'passed' as const, disposition: data.disposition, note: data.note, evidence: data.evidence, auto: false }) },
    ).decision();
  }
  const evidence = data.evidence ?? [];
  if (evidence.length === 0) return broken('evidence_required', 'a failed inspection needs evidence');
  return outcome
    .add(
      { type: 'ReturnReceived', data: compact({ inspection: 'failed' as const, disposition: data.disposition, note: data.note, evidence, auto: false }) },
      { type: 'ReturnInspectionFailed', data: compact({ note: data.note, evidence }) },
      { type: 'CaseEscalated', data: { reason: 'inspection_failed' } },
    )
    .decision();
};

export const shipReplacement: Handler<ShipReplacement> = (c, { data }, ctx) =>
  new Outcome(c, ctx)
    .add({ type: 'ReplacementShipped', data: { carrier: data.carrier, trackingNumber: data.trackingNumber, shippedAt: iso(ctx.now) } })
    .decision();

export const declareUnrepairable: Handler<DeclareUnrepairable> = (c, { data }, ctx) =>
  // The buyer gets the case's lines in full: an item the merchant cannot repair is as good as not delivered.
  new Outcome(c, ctx)
    .add({ type: 'RepairDeclaredUnrepairable', data: compact({ note: data.note }) })
    .payDue(caseRefundable(ctx.order, c.caseId, lineQuantities(c)))
    .decision();

export const confirmDelivery: Handler<ConfirmDelivery> = (c, _command, ctx) => new Outcome(c, ctx).complete().decision();

export const rule: Handler<Rule> = (c, { data }, ctx) => {
  if (!data.note?.trim()) return broken('note_required', 'a ruling explains itself in a note');
  const returnRequired = data.returnRequired ?? false;
  const outcome = new Outcome(c, ctx);
  if (data.ruling === 'merchant') {
    if (data.refundAmount !== undefined) return broken('amount_not_allowed_for_ruling', 'a ruling for the merchant pays nothing');
    return outcome
      .add({ type: 'ArbitrationRuled', data: { ruling: 'merchant', returnRequired: false, note: data.note } })
      .close('ruled_for_merchant')
      .decision();
  }
  const amount = data.refundAmount;
  if (amount === undefined) {
    if (!(c.kind === 'exchange' || c.kind === 'repair' || c.kind === 'reship')) {
      return broken('refund_amount_required', `a ruling for the buyer on ${c.kind} names a refundAmount`);
    }
  } else {
    if (!Number.isSafeInteger(amount) || amount < 1) return broken('amount_must_be_positive', 'refundAmount is at least 1');
    // A compensation case is paid as a payout, so its ruling is bounded by the cap, not by the goods.
    if (c.kind === 'compensation') {
      if (c.payouts + amount > ctx.policy.compensationCap) {
        return broken('compensation_cap_exceeded', `payouts would exceed the cap of ${ctx.policy.compensationCap}`);
      }
    } else {
      const refundable = caseRefundable(ctx.order, c.caseId, lineQuantities(c));
      if (amount > refundable) return broken('amount_above_refundable', `ruled ${amount}, refundable ${refundable}`);
    }
  }
  outcome.add({ type: 'ArbitrationRuled', data: compact({ ruling: 'buyer' as const, refundAmount: amount, returnRequired, note: data.note }) });
  // With a return, the money follows receipt (afterReceiptStatus reads the ruling).
  if (outcome.case.status === 'refunding') outcome.payDue(c.kind === 'compensation' ? amount : undefined);
  return outcome.decision();
};

export const rate: Handler<Rate> = (c, { data }, ctx) => {
  const { score, nps, comment } = data;
  if (!Number.isInteger(score) || score < 1 || score > 5) return broken('invalid_rating', 'score is 1 to 5');
  if (nps !== undefined && (!Number.isInteger(nps) || nps < 0 || nps > 10)) return broken('invalid_rating', 'nps is 0 to 10');
  return new Outcome(c, ctx).add({ type: 'SatisfactionRated', data: compact({ score, nps, comment }) }).decision();
};
