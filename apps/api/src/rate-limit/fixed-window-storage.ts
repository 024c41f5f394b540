import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Window {
  startedAtMs: number;
  hits: number;
}

/** Windows are swept for idle callers once this many have been seen since the last sweep. */
const SWEEP_EVERY = 10_000;

/**
 * Counts requests per caller in fixed one-minute windows: O(1) per request.
 * The throttler's default storage keeps one expiry per hit and filters the
 * list on every request, which costs O(limit) for a busy caller (6,000 at
 * the default limit). A fixed window may let a caller through up to twice the
 * limit across a window boundary; that is the accepted price of the constant
 * cost. Counters are per process.
 */
export class FixedWindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private sinceSweep = 0;

  async increment(key: string, ttlMs: number, limit: number, _blockDurationMs: number, _throttlerName: string): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(now, ttlMs);
    let window = this.windows.get(key);
    if (!window || now - window.startedAtMs >= ttlMs) {
      window = { startedAtMs: now, hits: 0 };
      this.windows.set(key, window);
    }
    window.hits += 1;
    const secondsLeft = Math.max(1, Math.ceil((window.startedAtMs + ttlMs - now) / 1000));
    const isBlocked = window.hits > limit;
    return { totalHits: window.hits, timeToExpire: secondsLeft, isBlocked, timeToBlockExpire: isBlocked ? secondsLeft : 0 };
  }

  private sweep(now: number, ttlMs: number): void {
    this.sinceSweep = 0;
    for (const [key, window] of this.windows) if (now - window.startedAtMs >= ttlMs) this.windows.delete(key);
  }
}
