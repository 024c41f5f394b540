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
