import { TickTransaction } from './tick-transaction';

describe('TickTransaction', () => {
  let transactions: number;
  let failCommit: boolean;
  let tick: TickTransaction;

  beforeEach(() => {
    transactions = 0;
    failCommit = false;
    tick = new TickTransaction((work) => {
      transactions += 1;
      work();
      if (failCommit) throw new Error('disk full');
    });
  });

  it('runs what is asked for in one turn of the event loop in one transaction', async () => {
    const results = await Promise.all([1, 2, 3].map((n) => tick.enqueue(() => n * 10)));
    expect(results).toEqual([10, 20, 30]);
    expect(transactions).toBe(1);
    await tick.enqueue(() => 0);
    expect(transactions).toBe(2);
  });

  it('gives each caller its own error and the others their results', async () => {
    const outcomes = await Promise.allSettled([
      tick.enqueue(() => 'a'),
      tick.enqueue(() => {
        throw new Error('bad row');
      }),
      tick.enqueue(() => 'c'),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['a', 'bad row', 'c']);
  });

  it('fails every caller of a batch whose commit failed', async () => {
    failCommit = true;
    const outcomes = await Promise.allSettled([tick.enqueue(() => 'a'), tick.enqueue(() => 'b')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });

  it('runs what is queued when closed, then refuses more', async () => {
    const queued = tick.enqueue(() => 'kept');
    tick.close();
    expect(transactions).toBe(1);
    await expect(queued).resolves.toBe('kept');
    await expect(tick.enqueue(() => 'late')).rejects.toThrow(/closed/);
  });
});

describe('TickTransaction while another connection holds the write lock', () => {
  it('keeps the batch queued, gathering more, and runs it all once the lock is free; the wait is allowed only after lockWaitMs', async () => {
    let lockTaken = true;
    const attempts: boolean[] = [];
    let transactions = 0;
    const tick = new TickTransaction((work, mayWait) => {
      attempts.push(mayWait);
      if (lockTaken && !mayWait) return false;
      transactions += 1;
      work();
      return true;
    }, 10_000);
    const first = tick.enqueue(() => 'a');
    // Tried at least twice while the lock is taken.
    while (attempts.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const second = tick.enqueue(() => 'b');
    expect(transactions).toBe(0);
    expect(attempts.length).toBeGreaterThan(1);
    lockTaken = false;
    await expect(Promise.all([first, second])).resolves.toEqual(['a', 'b']);
    expect(transactions).toBe(1);
    expect(attempts.every((mayWait) => !mayWait)).toBe(true);
  });

  it('lets the runner wait for the lock once lockWaitMs has passed, and on close', async () => {
    const attempts: boolean[] = [];
    const tick = new TickTransaction((work, mayWait) => {
      attempts.push(mayWait);
      if (!mayWait) return false;
      work();
      return true;
    }, 30);
    await expect(tick.enqueue(() => 'late')).resolves.toBe('late');
    expect(attempts.at(-1)).toBe(true);
    const closing = tick.enqueue(() => 'closing');
    tick.close();
    await expect(closing).resolves.toBe('closing');
  });
});
