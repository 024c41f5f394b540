interface Window {
  startedAtMs: number;
  hits: number;
}

/** Windows are swept for idle keys once this many hits have come in since the last sweep. */
const SWEEP_EVERY = 10_000;

/**
 * Counts hits per key in fixed windows: O(1) per hit. A sliding log would
 * keep one expiry per hit and filter it on every request, O(limit) for a
 * busy caller (6,000 at the default limit). A fixed window may let a caller
 * through up to twice the limit across a window boundary; that is the
 * accepted price of the constant cost.
 */
export class FixedWindows {
  private readonly windows = new Map<string, Window>();
  private sinceSweep = 0;

  constructor(private readonly windowMs: number) {}

  /** Counts one hit for `key`; returns the hits in its current window and the whole seconds until that window ends (at least 1). */
  hit(key: string, nowMs: number): { hits: number; secondsLeft: number } {
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(nowMs);
    let window = this.windows.get(key);
    if (!window || nowMs - window.startedAtMs >= this.windowMs) {
      window = { startedAtMs: nowMs, hits: 0 };
      this.windows.set(key, window);
    }
    window.hits += 1;
    return { hits: window.hits, secondsLeft: Math.max(1, Math.ceil((window.startedAtMs + this.windowMs - nowMs) / 1000)) };
  }

  private sweep(nowMs: number): void {
    this.sinceSweep = 0;
    for (const [key, window] of this.windows) if (nowMs - window.startedAtMs >= this.windowMs) this.windows.delete(key);
  }
}
