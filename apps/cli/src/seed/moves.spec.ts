import { DEFAULT_POLICY, type AfterSalesCase } from '@aftersales/domain';
import { DAY, HOUR, World, orderSnapshot, request } from '@aftersales/domain/testing';
import { castFor } from './cast';
import { MoveChooser } from './moves';
import { Random } from './random';

// A case waiting for the merchant, with its 48 h response deadline running.
function pendingCase(): { c: AfterSalesCase; now: number } {
  const w = new World();
  // Trust 100: no auto-review, so the case waits for the merchant.
  w.delivered(orderSnapshot({ buyerTrustScore: 100 })).run(request({ kind: 'return_and_refund', reason: 'quality_defect' }));
  const c = w.case();
  expect(c.status).toBe('pending_merchant');
  return { c, now: w.now.getTime() };
}

describe('MoveChooser', () => {
  const random = new Random(21);
  const chooser = new MoveChooser(castFor(30, random), random);

  it('has people act before a running deadline, and a deadline fire exactly at its due time', () => {
    const { c, now } = pendingCase();
    const due = Date.parse(c.deadlines.merchantResponse!);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i += 1) {
      const next = chooser.next(c, now, now + 30 * DAY, DEFAULT_POLICY, false)!;
      seen.add(next.move.type);
      if (next.move.type === 'deadline-passed') {
        expect(next.move.deadline).toEqual({ name: 'merchantResponse', dueAt: c.deadlines.merchantResponse });
        expect(next.at).toBe(due);
      } else {
        expect(next.at).toBeGreaterThanOrEqual(now);
        expect(next.at).toBeLessThan(due);
      }
    }
    // The merchant decides most often; sometimes nobody does and the deadline approves.
    expect(['approve', 'reject', 'counter-offer', 'deadline-passed'].every((t) => seen.has(t))).toBe(true);
  });

  it('fires a deadline due before the end of the history when the move drawn would come after it', () => {
    const { c, now } = pendingCase();
    const due = Date.parse(c.deadlines.merchantResponse!);
    for (let i = 0; i < 100; i += 1) {
      // The history ends an hour after the deadline: whatever is drawn, nothing happens later than the deadline.
      const next = chooser.next(c, now, due + HOUR, DEFAULT_POLICY, false)!;
      expect(next.at).toBeLessThanOrEqual(due);
    }
  });

  it('plans nothing past the end when no deadline falls before it', () => {
    const { c, now } = pendingCase();
    for (let i = 0; i < 100; i += 1) {
      const next = chooser.next(c, now, now + 1, DEFAULT_POLICY, false);
      if (next) expect(next.at).toBeLessThanOrEqual(now + 1);
    }
  });
});
