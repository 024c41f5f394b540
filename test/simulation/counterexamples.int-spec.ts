import { Logger } from '@nestjs/common';
import { InMemoryEventStore } from '@aftersales/event-store/testing';
import type { Fault, FaultPlan } from './support/faulty-store';
import { MoneyWorld, actions } from './support/money-world';
import { seededRandom } from './support/scheduler';

// The three ways the command path once paid out more (or less) than it
// should, each replayed under every interleaving a sweep of seeds gives.

/** Fails the n-th append that matches, once. */
function failOnce(fault: Fault, match: (a: { process: string; stream: string; types: string[] }) => boolean, nth = 1): FaultPlan {
  let seen = 0;
  return (append) => (match(append) && ++seen === nth ? fault : undefined);
}

const caseAppendWith = (type: string) => (a: { stream: string; types: string[] }) => a.stream.startsWith('aftersales-') && a.types.includes(type);

async function world(seed: number, plan: FaultPlan): Promise<MoneyWorld> {
  const w = new MoneyWorld([new InMemoryEventStore()], `o${seed}`, seededRandom(seed), plan);
  await w.setUp(500);
  return w;
}

const SEEDS = Array.from({ length: 60 }, (_, i) => i + 1);

describe('money counterexamples, replayed', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  it('a reservation left by a failed case append is never issued twice, nor reused once released', async () => {
    for (const seed of SEEDS) {
      for (const fault of ['refused', 'ambiguous', 'crash-before'] as const) {
        const w = await world(seed, failOnce(fault, caseAppendWith('RefundIssued')));
        const [c1, c2] = [`o${seed}-c1`, `o${seed}-c2`];
        w.caseIds.push(c1, c2);
        await w.run(
          [actions.request(c1, 'partial_refund', ['L1'], 10_000), actions.approve(c1), actions.approve(c1), actions.request(c2, 'partial_refund', ['L2'], 10_000), actions.approve(c2), actions.settle(c1), actions.settle(c2)],
          2,
          2,
        );
        await w.repairToTheEnd();
        await w.checkRepaired();
        const order = await w.order();
        if (order.status === 'none') throw new Error('no order');
        const paidOut = Object.values(order.reservations).filter((r) => r.status !== 'released').reduce((sum, r) => sum + r.amount, 0);
        expect(paidOut).toBeLessThanOrEqual(20_000);
      }
    }
  }, 120_000);

  it('the repair pass never releases a reservation that a retry of the same decision then issues', async () => {
    for (const seed of SEEDS) {
      // The first approval reserves, then its process dies before the case append; the repair pass and a retry race.
      const w = await world(seed, failOnce('crash-before', caseAppendWith('RefundIssued')));
      const c1 = `o${seed}-c1`;
      w.caseIds.push(c1);
      await w.run([actions.request(c1, 'partial_refund', ['L1'], 6_000)], 1, 0);
      await w.run([actions.approve(c1), actions.approve(c1)], 2, 4);
      await w.repairToTheEnd();
      await w.checkRepaired();
      const kase = await w.caseState(c1);
      if (kase.status === 'none') throw new Error('no case');
      const issued = kase.refunds.filter((r) => r.purpose === 'refund');
      expect(issued.map((r) => r.amount)).toEqual([6_000]);
    }
  }, 120_000);

  it('a payout racing a refund on one case never shrinks the refund', async () => {
    for (const seed of SEEDS) {
      const w = await world(seed, () => undefined);
      const c1 = `o${seed}-c1`;
      w.caseIds.push(c1);
      await w.run([actions.request(c1, 'partial_refund', ['L1'], 8_000), actions.claim(c1)], 1, 0);
      await w.run([actions.approve(c1), actions.compensate(c1, 8_000)], 2, 1);
      await w.repairToTheEnd();
      const kase = await w.caseState(c1);
      if (kase.status === 'none') throw new Error('no case');
      const refunds = kase.refunds.filter((r) => r.purpose === 'refund').map((r) => r.amount);
      // The merchant agreed to 8,000: the buyer gets exactly that, whatever the agent paid out meanwhile.
      if (kase.agreedAmount !== undefined) expect(refunds).toEqual([8_000]);
      const order = await w.order();
      if (order.status === 'none') throw new Error('no order');
      expect(Object.values(order.reservations).filter((r) => r.status === 'reserved' && !kase.refunds.some((x) => x.refundId === r.refundId))).toEqual([]);
    }
  }, 120_000);
});
