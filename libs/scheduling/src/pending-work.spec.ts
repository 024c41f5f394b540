import { ACTORS, World, act, request, settled } from '@aftersales/domain/testing';
import { REFUND_ATTEMPTS, pendingWork, refundRetryDelayMs } from './pending-work';

const keys = (world: World) => pendingWork(world.state()).map((w) => w.key).sort();

describe('pendingWork: what a case waits for the system to do', () => {
  it('owes exactly its running deadline, keyed by name and due time', () => {
    const world = new World().delivered().run(request({ kind: 'return_and_refund', reason: 'changed_mind', pickup: false, lines: [{ lineId: 'L1', quantity: 1 }] }));
    const pending = world.state();
    if (pending.status === 'none') throw new Error('no case');
    // The small-amount rule may approve at once; either way exactly the current status's deadline is owed.
    const work = pendingWork(pending);
    expect(work.map((w) => w.queue)).toEqual(['deadlines']);
    const [deadline] = work;
    expect(deadline.key).toBe(`deadline-c1-${Object.keys(pending.deadlines)[0]}-${Date.parse(Object.values(pending.deadlines)[0]!)}`);
    expect(deadline.key).not.toContain(':');
  });

  it('owes a pickup while the buyer asked for one and none is booked, then no longer', () => {
    const world = new World().delivered().run(request({ kind: 'return_and_refund', reason: 'quality_defect', pickup: true, evidence: ['https://e/x.jpg'], lines: [{ lineId: 'L1', quantity: 1 }] }));
    if (world.state().status !== 'awaiting_return') world.run(act('approve', ACTORS.merchant));
    expect(world.state().status).toBe('awaiting_return');
    expect(pendingWork(world.state()).filter((w) => w.queue === 'pickups')).toHaveLength(1);
    world.run(act('schedule-pickup', ACTORS.system, { carrier: 'SF', trackingNumber: 'SF1', windowStart: '2025-03-05T09:00:00Z', windowEnd: '2025-03-05T18:00:00Z' }));
    expect(pendingWork(world.state()).filter((w) => w.queue === 'pickups')).toEqual([]);
  });

  it('owes each pending refund under a key per attempt, and nothing once it settled', () => {
    const world = new World().at(new Date('2025-02-21T00:00:00Z')).register().run(request({ kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }));
    const kase = world.case();
    expect(kase.status).toBe('refunding');
    const [refund] = kase.refunds;
    expect(keys(world)).toEqual([`refund-${refund.refundId}-a0`]);
    expect(pendingWork(kase)[0]).toMatchObject({ queue: 'refunds', data: { refundId: refund.refundId, amount: refund.amount, attempt: 1 } });

    world.run(act('refund-failed', ACTORS.integration, { refundId: refund.refundId, attempt: 1, final: false, error: 'declined' }));
    const retry = pendingWork(world.state());
    expect(retry.map((w) => w.key)).toEqual([`refund-${refund.refundId}-a1`]);
    expect(retry[0].dueAt).toBe(Date.parse(world.case().updatedAt) + refundRetryDelayMs(1));

    world.run(settled(refund.refundId, '2025-02-22T00:00:00Z'));
    expect(world.state().status).toBe('completed');
    expect(pendingWork(world.state())).toEqual([]);
  });

  it('owes nothing for a refund given up for good', () => {
    const world = new World().at(new Date('2025-02-21T00:00:00Z')).register().run(request({ kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }));
    const [refund] = world.case().refunds;
    world.run(act('refund-failed', ACTORS.integration, { refundId: refund.refundId, attempt: 5, final: true, error: 'closed account' }));
    expect(pendingWork(world.state()).filter((w) => w.queue === 'refunds')).toEqual([]);
  });

  it('owes a refund a person retried again at once, under a key never used, with a fresh series of attempts', () => {
    const world = new World().at(new Date('2025-02-21T00:00:00Z')).register().run(request({ kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }));
    const [refund] = world.case().refunds;
    const used = new Set<string>();
    for (let attempt = 1; attempt <= REFUND_ATTEMPTS; attempt += 1) {
      for (const w of pendingWork(world.state())) used.add(w.key);
      world.run(act('refund-failed', ACTORS.integration, { refundId: refund.refundId, attempt, final: attempt === REFUND_ATTEMPTS, error: 'closed account' }));
    }
    expect(pendingWork(world.state())).toEqual([]);

    world.advance(86_400_000).run(act('retry-refund', ACTORS.admin, { refundId: refund.refundId }));
    const [again] = pendingWork(world.state());
    expect(used.has(again.key)).toBe(false);
    expect(again).toMatchObject({
      queue: 'refunds',
      dueAt: Date.parse(world.case().updatedAt),
      data: { refundId: refund.refundId, attempt: REFUND_ATTEMPTS + 1, lastAttempt: 2 * REFUND_ATTEMPTS },
    });
    // The new series backs off from its own start: 30 s after its first failure, not the step a sixth failure in a row would take.
    world.run(act('refund-failed', ACTORS.integration, { refundId: refund.refundId, attempt: REFUND_ATTEMPTS + 1, final: false }));
    expect(pendingWork(world.state())[0].dueAt).toBe(Date.parse(world.case().updatedAt) + refundRetryDelayMs(1));
  });

  it('waits before the next attempt as long as the payment centre asked on the last one, within the back-off\'s last step', () => {
    const world = new World().at(new Date('2025-02-21T00:00:00Z')).register().run(request({ kind: 'refund_only', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }] }));
    const [refund] = world.case().refunds;
    const nextWait = (attempt: number, retryAfterMs?: number) => {
      world.run(act('refund-failed', ACTORS.integration, { refundId: refund.refundId, attempt, final: false, error: 'busy', retryAfterMs }));
      return pendingWork(world.state())[0].dueAt - Date.parse(world.case().updatedAt);
    };
    // Longer than this step's 30 s: as asked.
    expect(nextWait(1, 100_000)).toBe(100_000);
    // Shorter than this step's 1 min: the back-off's own step.
    expect(nextWait(2, 10_000)).toBe(60_000);
    // An hour: no later than the last step between attempts (4 min).
    expect(nextWait(3, 3_600_000)).toBe(refundRetryDelayMs(REFUND_ATTEMPTS - 1));
    // Nothing asked: the back-off alone.
    expect(nextWait(4)).toBe(refundRetryDelayMs(4));
  });

  it('backs off between payment attempts, capped at an hour', () => {
    expect([0, 1, 2, 3, 10, 30].map(refundRetryDelayMs)).toEqual([0, 30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
  });
});
