import { actions, type Action, type MoneyWorld } from './money-world';
import { twice, workerActions } from './worker-actions';

/**
 * A random workload for one seed: three cases on one order, then the
 * parties' decisions, payouts, the cases' next steps (the worker's timers,
 * the carrier's scans, the payment centre's answers), deliveries repeated and
 * deadline jobs run late, in any order.
 */
export function randomActions(world: MoneyWorld): Action[] {
  const r = world.random;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)];
  const amount = () => 1_000 * (1 + Math.floor(r() * 12));
  const list: Action[] = [];
  const journeys: Action[] = [];
  for (let i = 1; i <= 3; i += 1) {
    const caseId = `${world.orderId}-c${i}`;
    world.caseIds.push(caseId);
    const kind = pick(['refund_only', 'partial_refund', 'compensation', 'return_and_refund'] as const);
    const lines = pick([['L1'], ['L2'], ['L1', 'L2']]);
    const requested = kind === 'partial_refund' || kind === 'compensation' || (kind === 'return_and_refund' && r() < 0.3) ? amount() : undefined;
    list.push(actions.request(caseId, kind, lines, requested, kind === 'return_and_refund' && r() < 0.5));
    // A return goes through more hands (the parcel, the receipt, the express refund): more next steps, anywhere later.
    if (kind === 'return_and_refund') for (let step = 0; step < 5; step += 1) journeys.push(workerActions.next(caseId));
  }
  const repeats: Action[] = [];
  const more = 10 + Math.floor(r() * 8);
  for (let i = 0; i < more; i += 1) {
    const caseId = pick(world.caseIds);
    const roll = r();
    if (roll < 0.15) list.push(actions.approve(caseId));
    else if (roll < 0.2) list.push(actions.counterOffer(caseId, amount()));
    else if (roll < 0.25) list.push(actions.acceptOffer(caseId));
    else if (roll < 0.35) list.push(actions.claim(caseId), actions.compensate(caseId, amount()));
    else if (roll < 0.4) list.push(actions.withdraw(caseId));
    else if (roll < 0.72) list.push(workerActions.next(caseId));
    else if (roll < 0.82) {
      const [first, again] = twice(workerActions.next(caseId));
      list.push(first);
      repeats.push(again);
    } else if (roll < 0.88) list.push(workerActions.deadline(caseId));
    else if (roll < 0.95) list.push(workerActions.payment(caseId));
    else list.push(workerActions.lateDeadline(caseId));
  }
  for (const step of journeys) list.splice(3 + Math.floor(r() * (list.length - 2)), 0, step);
  // A repeat goes out anywhere after its first delivery: at once, or much later.
  for (const again of repeats) {
    const first = list.findIndex((a) => a.caseId === again.caseId && a.command === again.command);
    list.splice(first + 1 + Math.floor(r() * (list.length - first)), 0, again);
  }
  return list;
}
