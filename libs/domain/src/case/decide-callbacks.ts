import { isRegistered } from '../order/state';
import { accept, broken, refuse, type Decision } from '../refusal';
import { canonicalInstant, instant, iso, sameInstant } from '../time';
import type {
  DeadlinePassed,
  RefundFailedCallback,
  RefundSettledCallback,
  ReplacementDeliveredCallback,
  ReturnCollectedCallback,
  ReturnDeliveredCallback,
  SchedulePickup,
  ShippingInsurancePaidCallback,
} from './commands';
import type { CaseContext } from './context';
import type { CaseEvent } from './events';
import { claimShippingInsurance, receivePassed } from './decide-flow';
import { Outcome, compact } from './outcome';
import type { AfterSalesCase } from './state';
import { rowStartsFrom, rowsFor } from './transitions';

// Timers, bookings and callbacks. Each is idempotent: a repeat of something
// already recorded, or a timer no longer current, decides nothing.

type Handler<C> = (c: AfterSalesCase, command: C, ctx: CaseContext) => Decision<CaseEvent>;

const notNow = (c: AfterSalesCase, action: string): Decision<CaseEvent> =>
  refuse({ type: 'ActionNotAllowed', action, status: c.status, allowedActions: [] });

const invalidTime = (field: string): Decision<CaseEvent> => broken('invalid_time', `${field} is not an ISO-8601 instant`);

export const deadlinePassed: Handler<DeadlinePassed> = (c, { data }, ctx) => {
  const { name, dueAt } = data;
  const running = c.deadlines[name];
  // "If the party acted first, the timer does nothing."
  if (running === undefined || !sameInstant(running, dueAt)) return accept([]);
  if (!rowsFor('deadline-passed', name).some((row) => rowStartsFrom(row, c.status))) return accept([]);
  // Early delivery of a timer is refused (not ignored) so the scheduler tries again and none is lost.
  if (ctx.now.getTime() < (instant(running) ?? 0)) return broken('deadline_not_due', `${name} is due at ${running}`);

  const outcome = new Outcome(c, ctx);
  switch (name) {
    case 'merchantResponse':
      outcome.add({ type: 'MerchantAgreed', data: { amount: c.requestedAmount, auto: true, trigger: 'merchantResponse' } });
      if (outcome.case.status === 'refunding') outcome.payDue();
      break;
    case 'buyerOfferResponse':
      outcome.add({ type: 'OfferLapsed', data: {} }).close('expired');
      break;
    case 'buyerAppeal':
      outcome.close('rejected');
      break;
    case 'buyerShipBack':
      outcome.close('expired');
      break;
    case 'returnTransit':
      outcome
        .add({
          type: 'ReturnDelivered',
          data: { trackingNumber: c.returnParcel?.trackingNumber ?? c.pickup?.trackingNumber ?? '', at: iso(ctx.now), assumed: true },
        })
        .deadline('merchantReceipt');
      break;
    case 'merchantReceipt':
      receivePassed(outcome, { type: 'ReturnReceived', data: { inspection: 'passed', auto: true } });
      break;
    case 'merchantShipment':
      outcome.add({ type: 'CaseEscalated', data: { reason: 'merchantShipment passed' } });
      break;
    case 'replacementAutoComplete':
      outcome.complete();
      break;
    case 'platformRulingSla':
      // Never a ruling: staff are reminded, the case moves up, and the next reminder is set.
      outcome
        .add({ type: 'CaseUrged', data: { waitingFor: 'platform', priority: c.priority + 1 } })
        .deadline('platformRulingSla');
      break;
    default: {
      const unknownDeadline: never = name;
      return unknownDeadline;
    }
  }
  return outcome.decision();
};

export const schedulePickup: Handler<SchedulePickup> = (c, { data }, ctx) => {
  if (c.pickup) {
    return c.pickup.trackingNumber === data.trackingNumber
      ? accept([])
      : refuse({ type: 'Conflict', reason: 'pickup_already_scheduled', detail: `pickup ${c.pickup.trackingNumber} is booked` });
  }
  if (c.status !== 'awaiting_return') return notNow(c, 'schedule-pickup');
  if (!c.pickupRequested) return broken('pickup_not_requested', 'the buyer did not ask for a pickup');
  const windowStart = canonicalInstant(data.windowStart);
  const windowEnd = canonicalInstant(data.windowEnd);
  if (windowStart === undefined) return invalidTime('windowStart');
  if (windowEnd === undefined) return invalidTime('windowEnd');
  return new Outcome(c, ctx)
    .add({ type: 'PickupScheduled', data: { carrier: data.carrier, trackingNumber: data.trackingNumber, windowStart, windowEnd } })
    .decision();
};

/** The tracking number logistics callbacks must carry: the return parcel's, else the booked pickup's. */
const returnTracking = (c: AfterSalesCase): string | undefined => c.returnParcel?.trackingNumber ?? c.pickup?.trackingNumber;

export const returnCollected: Handler<ReturnCollectedCallback> = (c, { data }, ctx) => {
  const at = canonicalInstant(data.at);
  if (at === undefined) return invalidTime('at');
  if (c.status !== 'awaiting_return' && c.status !== 'return_in_transit') {
    // A late scan for a parcel the case already moved past is acknowledged, not an error.
    return c.returnParcel?.trackingNumber === data.trackingNumber ? accept([]) : notNow(c, 'return-collected');
  }
  if (returnTracking(c) !== data.trackingNumber) return broken('tracking_number_mismatch', 'not this return\'s parcel');
  if (c.returnParcel?.collectedAt !== undefined || c.returnParcel?.deliveredAt !== undefined) return accept([]);

  const outcome = new Outcome(c, ctx).add({ type: 'ReturnCollected', data: { trackingNumber: data.trackingNumber, at } });
  claimShippingInsurance(outcome);
  grantExpressRefund(outcome);
  return outcome.decision();
};

/** 极速退款: a trusted buyer is refunded once the courier has the parcel (DOMAIN.md, *Express refund*). */
function grantExpressRefund(outcome: Outcome): void {
  const c = outcome.case;
  const { order, policy, buyerFlagged } = outcome.ctx;
  // A return the arbitrator ordered is refunded after receipt, as ruled, never early.
  if (c.kind !== 'return_and_refund' || c.ruling !== undefined || buyerFlagged || !isRegistered(order)) return;
  if (order.buyerTrustScore < policy.expressRefundMinTrust) return;
  const amount = outcome.refundDue();
  if (amount <= 0 || amount > policy.expressRefundMaxAmount) return;
  const refundId = outcome.refundId;
  outcome.add({ type: 'ExpressRefundGranted', data: { refundId, amount } });
  outcome.issueRefund(amount, 'refund', true);
}

export const returnDelivered: Handler<ReturnDeliveredCallback> = (c, { data }, ctx) => {
  const at = canonicalInstant(data.at);
  if (at === undefined) return invalidTime('at');
  if (c.status !== 'return_in_transit') {
    return c.returnParcel?.trackingNumber === data.trackingNumber ? accept([]) : notNow(c, 'return-delivered');
  }
  if (returnTracking(c) !== data.trackingNumber) return broken('tracking_number_mismatch', 'not this return\'s parcel');
  // Already delivered, really or by assumption: merchantReceipt is running and must not move.
  if (c.returnParcel?.deliveredAt !== undefined) return accept([]);
  // merchantReceipt runs from when the platform learns of the delivery, like every other deadline.
  return new Outcome(c, ctx)
    .add({ type: 'ReturnDelivered', data: { trackingNumber: data.trackingNumber, at, assumed: false } })
    .deadline('merchantReceipt')
    .decision();
};

export const replacementDelivered: Handler<ReplacementDeliveredCallback> = (c, { data }, ctx) => {
  const at = canonicalInstant(data.at);
  if (at === undefined) return invalidTime('at');
  const parcel = c.replacementParcel;
  const matches = data.trackingNumber === undefined || parcel?.trackingNumber === data.trackingNumber;
  if (c.status !== 'replacement_in_transit') return parcel && matches ? accept([]) : notNow(c, 'replacement-delivered');
  if (!matches) return broken('tracking_number_mismatch', 'not this replacement\'s parcel');
  if (parcel?.deliveredAt !== undefined) return accept([]);
  return new Outcome(c, ctx).add({ type: 'ReplacementDelivered', data: { at } }).decision();
};

export const refundSettled: Handler<RefundSettledCallback> = (c, { data }, ctx) => {
  const refund = c.refunds.find((r) => r.refundId === data.refundId);
  if (!refund) return refuse({ type: 'NotFound', detail: `no refund ${data.refundId}` });
  if (refund.status === 'settled') return accept([]);
  const at = canonicalInstant(data.at);
  if (at === undefined) return invalidTime('at');
  const outcome = new Outcome(c, ctx).add({
    type: 'RefundSettled',
    data: compact({ refundId: refund.refundId, providerRef: data.providerRef, at }),
  });
  const after = outcome.case;
  if (after.status === 'refunding' && after.refunds.every((r) => r.status === 'settled')) outcome.complete();
  return outcome.decision();
};

export const refundFailed: Handler<RefundFailedCallback> = (c, { data }, ctx) => {
  const refund = c.refunds.find((r) => r.refundId === data.refundId);
  if (!refund) return refuse({ type: 'NotFound', detail: `no refund ${data.refundId}` });
  // Paid or given up already: nothing new to say.
  if (refund.status !== 'pending') return accept([]);
  const at = data.at === undefined ? undefined : canonicalInstant(data.at);
  if (data.at !== undefined && at === undefined) return invalidTime('at');
  // A report is known by the payment centre's time of the attempt when it gives one, else by its attempt number.
  const repeated = at !== undefined ? (refund.failedAt ?? []).includes(at) : data.attempt <= refund.attempts;
  if (repeated) return accept([]);
  // A new failure counted from an older view of the case (a racing report) is still the next attempt.
  const attempt = Math.max(data.attempt, refund.attempts + 1);
  // A wait that is not a whole positive number of milliseconds says nothing the back-off does not.
  const retryAfterMs = Number.isSafeInteger(data.retryAfterMs) && (data.retryAfterMs ?? 0) > 0 ? data.retryAfterMs : undefined;
  return new Outcome(c, ctx)
    .add({ type: 'RefundFailed', data: compact({ refundId: refund.refundId, error: data.error, attempt, final: data.final, at, retryAfterMs }) })
    .decision();
};

export const shippingInsurancePaid: Handler<ShippingInsurancePaidCallback> = (c, { data }, ctx) => {
  const claim = c.insuranceClaim;
  if (!claim || claim.claimId !== data.claimId) return broken('unknown_claim', `no insurance claim ${data.claimId} on this case`);
  if (claim.paid) return accept([]);
  return new Outcome(c, ctx).add({ type: 'ShippingInsurancePaid', data: { claimId: claim.claimId, amount: data.amount } }).decision();
};
