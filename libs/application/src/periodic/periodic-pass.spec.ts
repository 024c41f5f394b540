import { PeriodicPass } from './periodic-pass';

describe('PeriodicPass', () => {
  it('shares one run between overlapping calls and counts passes and failures', async () => {
    let calls = 0;
    let release!: () => void;
    const pass = new PeriodicPass(() => {
      calls += 1;
      return new Promise<number>((resolve) => (release = () => resolve(calls)));
    });
    const first = pass.runOnce();
    const second = pass.runOnce();
    release();
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(calls).toBe(1);

    const failing = new PeriodicPass<number>(() => Promise.reject(new Error('down')), { failed: (e) => expect(e.message).toBe('down') });
    await expect(failing.runOnce()).rejects.toThrow('down');
    expect({ ok: pass.counts, failed: failing.counts }).toEqual({ ok: { passes: 1, failedPasses: 0 }, failed: { passes: 0, failedPasses: 1 } });
  });

  it('runs at start, then on its timer, and stop waits for the pass under way', async () => {
    jest.useFakeTimers();
    try {
      const reports: number[] = [];
      let n = 0;
      const pass = new PeriodicPass(async () => ++n, { done: (r) => reports.push(r) });
      pass.start(1000);
      await jest.advanceTimersByTimeAsync(0);
      expect(reports).toEqual([1]);
      await jest.advanceTimersByTimeAsync(2000);
      expect(reports).toEqual([1, 2, 3]);
      await pass.stop();
      await jest.advanceTimersByTimeAsync(5000);
      expect(reports).toEqual([1, 2, 3]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('starts its first pass only once the role that starts it has finished starting (the next turn of the event loop)', async () => {
    let calls = 0;
    const pass = new PeriodicPass(async () => ++calls);
    pass.start(60_000);
    // What else a start runs in the same turn (the other roles' bootstrap hooks, awaited in turn) comes first.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(calls).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(1);
    await pass.stop();
  });

  it('stopped before its first turn, it never runs', async () => {
    let calls = 0;
    const pass = new PeriodicPass(async () => ++calls);
    pass.start(60_000);
    await pass.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(0);
  });
});
