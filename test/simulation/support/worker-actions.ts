import type { Actor, AfterSalesCase, CaseCommand, DeadlineName } from '@aftersales/domain';
import { REFUND_ATTEMPTS, pendingWork } from '../../../libs/scheduling/src/pending-work';
import { buyer, foldCaseLog, merchant, payments, type Action, type MoneyWorld } from './money-world';

// What the worker and the integrations send through the command path
// (apps/worker/src/processors, the integration callbacks), built, like the
// clients' actions, from the case as it is when the command is sent: a job
// from `pendingWork`, the carrier's next scan, the payment centre's answer.

/** The worker acts as the system; the failures it records act as the integration (apps/worker/src/system-commands.ts). */
const WORKER: Actor = { role: 'system', id: 'worker' };
const WORKER_INTEGRATION: Actor = { role: 'integration', id: 'worker' };
const LOGISTICS: Actor = { role: 'integration', id: 'logistics' };
const HOUR = 3_600_000;

/** A deadline the case set at some point (`DeadlineSet`), running or not. */
interface SetDeadline {
  name: DeadlineName;
  dueAt: string;
}

type Build = (world: MoneyWorld, c: AfterSalesCase, history: readonly SetDeadline[]) => CaseCommand | undefined;

const now = (world: MoneyWorld) => world.clock.now().toISOString();
const pickOne = <T>(world: MoneyWorld, items: readonly T[]): T => items[Math.floor(world.random() * items.length)];

/** An action built from the case as it is when sent; nothing when there is no case (yet) or nothing to do. */
function onCase(label: string, caseId: string, build: Build): Action {
  return {
    label: `${label} ${caseId}`,
    caseId,
    command: async (world) => {
      const events = await world.caseEvents(caseId);
      const state = foldCaseLog(events);
      const history = events.filter((e) => e.type === 'DeadlineSet').map((e) => e.data as SetDeadline);
      return state.status === 'none' ? undefined : build(world, state, history);
    },
  };
}

/** Set before, and no longer the one running (its status left, or entered again under a fresh deadline). */
const superseded = (c: AfterSalesCase, history: readonly SetDeadline[]) =>
  history.filter((d) => c.deadlines[d.name] === undefined || Date.parse(c.deadlines[d.name] as string) !== Date.parse(d.dueAt));

/**
 * A deadline job runs: time passes to its due time, as the job is delayed
 * until then; one in ten is delivered early instead (and refused, so the
 * worker's queue tries it again).
 */
function fire(world: MoneyWorld, name: DeadlineName, dueAt: string): CaseCommand {
  if (world.random() < 0.9) world.clock.advanceTo(Date.parse(dueAt));
  return { type: 'deadline-passed', actor: WORKER, data: { name, dueAt } };
}

/**
 * The timer of the deadline the status runs; now and then the job of an
 * earlier deadline of that name instead (the status was entered before),
 * delayed until now: it must do nothing.
 */
const running =
  (name: DeadlineName): Build =>
  (world, c, history) => {
    const earlier = superseded(c, history).filter((d) => d.name === name);
    if (earlier.length > 0 && world.random() < 0.3) {
      const job = pickOne(world, earlier);
      return fire(world, job.name, job.dueAt);
    }
    const dueAt = c.deadlines[name];
    return dueAt === undefined ? undefined : fire(world, name, dueAt);
  };

/** One of the deadline jobs the case's pending work holds now. */
const dueDeadline: Build = (world, c) => {
  const jobs = pendingWork(c).flatMap((w) => (w.queue === 'deadlines' ? [w.data] : []));
  if (jobs.length === 0) return undefined;
  const job = pickOne(world, jobs);
  return fire(world, job.name, job.dueAt);
};

/** A deadline job from the case's history run late or again, mostly one no longer running: only a running one may do anything. */
const lateDeadline: Build = (world, c, history) => {
  const stale = superseded(c, history);
  const pool = stale.length > 0 && world.random() < 0.8 ? stale : history;
  if (pool.length === 0) return undefined;
  const job = pickOne(world, pool);
  return fire(world, job.name, job.dueAt);
};

/** The pickup processor books the door pickup the buyer asked for. */
const bookPickup: Build = (world, c) => {
  if (!pendingWork(c).some((w) => w.queue === 'pickups')) return undefined;
  const start = world.clock.now().getTime() + 2 * HOUR;
  return {
    type: 'schedule-pickup',
    actor: WORKER,
    data: { carrier: 'SF', trackingNumber: `PU-${c.caseId}`, windowStart: new Date(start).toISOString(), windowEnd: new Date(start + 4 * HOUR).toISOString() },
  };
};

const shipBack: Build = (_world, c) =>
  c.status === 'awaiting_return' ? { type: 'ship-return', actor: buyer, data: { carrier: 'YTO', trackingNumber: `RT-${c.caseId}` } } : undefined;

/** The carrier's next scan of the return parcel (or the booked pickup): collected, then delivered. */
const scan: Build = (world, c) => {
  const trackingNumber = c.returnParcel?.trackingNumber ?? c.pickup?.trackingNumber;
  if (trackingNumber === undefined) return undefined;
  const parcel = c.returnParcel;
  const type = parcel?.collectedAt === undefined && parcel?.deliveredAt === undefined ? 'return-collected' : 'return-delivered';
  return { type, actor: LOGISTICS, data: { trackingNumber, at: now(world) } };
};

const confirmReceipt: Build = (_world, c) =>
  c.status === 'return_in_transit' ? { type: 'confirm-receipt', actor: merchant, data: { inspection: 'passed' } } : undefined;

/**
 * The payment centre's answer to the refund worker's submission of one of
 * the case's refunds (its pending one, as the worker's job names it; now
 * and then one already settled or given up, a late report). Every
 * submission carries the refund id, so a resubmission after a failure is
 * the same refund: it settles, or fails as the next attempt.
 */
const payment: Build = (world, c) => {
  if (c.refunds.length === 0) return undefined;
  const pending = c.refunds.filter((r) => r.status === 'pending');
  const pool = pending.length > 0 && world.random() < 0.85 ? pending : c.refunds;
  const refund = pool[Math.floor(world.random() * pool.length)];
  const attempt = refund.attempts + 1;
  const roll = world.random();
  if (roll < 0.55) return { type: 'refund-settled', actor: payments, data: { refundId: refund.refundId, at: now(world) } };
  // The refund processor records a refused attempt by its number; at the last one the failure is final.
  if (roll < 0.75) return { type: 'refund-failed', actor: WORKER_INTEGRATION, data: { refundId: refund.refundId, error: 'refused', attempt, final: attempt >= REFUND_ATTEMPTS } };
  // The payments callback reports a failed attempt by its time.
  if (roll < 0.87) return { type: 'refund-failed', actor: payments, data: { refundId: refund.refundId, error: 'declined', attempt, final: false, at: now(world) } };
  // Every attempt failed (the earlier ones are not played out): the last is final and the case goes to the agent pool.
  return { type: 'refund-failed', actor: WORKER_INTEGRATION, data: { refundId: refund.refundId, error: 'gave up', attempt: Math.max(attempt, REFUND_ATTEMPTS), final: true } };
};

const either =
  (chance: number, a: Build, b: Build): Build =>
  (world, c, history) =>
    world.random() < chance ? a(world, c, history) : b(world, c, history);

/** Whoever the case waits for takes the next step, a person or the worker's timer racing them. */
const nextStep: Build = (world, c, history) => {
  switch (c.status) {
    case 'pending_merchant': {
      const roll = world.random();
      if (roll < 0.4) return { type: 'approve', actor: merchant, data: {} };
      if (roll < 0.5) return { type: 'reject', actor: merchant, data: { reason: 'used' } };
      return running('merchantResponse')(world, c, history);
    }
    case 'negotiating': {
      const roll = world.random();
      if (roll < 0.45) return { type: 'accept-offer', actor: buyer, data: {} };
      return roll < 0.7 ? { type: 'decline-offer', actor: buyer, data: {} } : running('buyerOfferResponse')(world, c, history);
    }
    case 'rejected':
      // An amended request waits for the merchant again, under a fresh merchantResponse: the old timer is no longer current.
      return either(0.7, () => ({ type: 'amend', actor: buyer, data: { description: 'photos attached' } }), running('buyerAppeal'))(world, c, history);
    case 'awaiting_return': {
      const roll = world.random();
      if (roll < 0.4 && pendingWork(c).some((w) => w.queue === 'pickups')) return bookPickup(world, c, history);
      if (roll < 0.7 && c.pickup) return scan(world, c, history);
      return roll < 0.93 ? shipBack(world, c, history) : running('buyerShipBack')(world, c, history);
    }
    case 'return_in_transit':
      if (c.returnParcel?.collectedAt === undefined && c.returnParcel?.deliveredAt === undefined) return either(0.85, scan, running('returnTransit'))(world, c, history);
      if (c.returnParcel?.deliveredAt === undefined) return either(0.6, scan, running('returnTransit'))(world, c, history);
      return either(0.5, confirmReceipt, running('merchantReceipt'))(world, c, history);
    default:
      return payment(world, c, history);
  }
};

export const workerActions = {
  next: (caseId: string): Action => onCase('next', caseId, nextStep),
  deadline: (caseId: string): Action => onCase('deadline', caseId, dueDeadline),
  lateDeadline: (caseId: string): Action => onCase('late deadline', caseId, lateDeadline),
  payment: (caseId: string): Action => onCase('payment', caseId, payment),
};

/**
 * The same delivery twice (a redelivered job, a repeated callback): both
 * send the command the first of them built, whenever each is sent.
 */
export function twice(action: Action): [Action, Action] {
  let built: Promise<CaseCommand | undefined> | undefined;
  const command = (world: MoneyWorld) => (built ??= action.command(world));
  return [
    { ...action, command },
    { ...action, label: `${action.label} (again)`, command },
  ];
}
