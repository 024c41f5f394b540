import type { Redis } from 'ioredis';
import { RLWrapperTimeouts, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** How one request fared against its caller's window. */
export interface WindowHit {
  allowed: boolean;
  /** Requests the caller may still make in this window. */
  remaining: number;
  /** Whole seconds until the window ends (at least 1). */
  secondsLeft: number;
}

export interface SharedWindowsOptions {
  /** Requests allowed per key and window. */
  points: number;
  windowSeconds: number;
  /** Where the counters live: the keys are `<keyPrefix>:<key>`. */
  keyPrefix?: string;
  /** A Redis answer slower than this counts as Redis being unavailable. */
  redisTimeoutMs?: number;
  /**
   * Points a process takes from a key's window at once (see the class
   * comment). Defaults to 1 % of `points`; 1 or less takes one per request.
   */
  leasePoints?: number;
}

/** Points this process took from a key's window in Redis ahead of its requests. */
interface Lease {
  /** Taken and not yet handed to a request. */
  left: number;
  /** What the window had left for everyone when the lease was taken. */
  sharedRemaining: number;
  /** When the window, and the lease with it, ends (ms since the epoch). */
  endsAt: number;
}

/** Keys whose leases are kept; beyond this the ended ones are dropped, or all of them (a dropped lease only loses its unused points). */
const MAX_LEASES = 100_000;

/**
 * Requests per key in fixed windows, counted in Redis through
 * rate-limiter-flexible (one atomic INCR-and-expire script per request), so
 * every API process draws on the same count: N processes allow a caller its
 * limit once, not N times. A fixed window may let a caller through up to
 * twice the limit across a window boundary; that is the price of one
 * counter per caller rather than a log of hits.
 *
 * While Redis cannot be reached (the client is not connected and does not
 * connect within `redisTimeoutMs`, or an answer takes longer than that)
 * each process counts in its own memory
 * instead: rate-limiter-flexible's insurance limiter. Failing open would
 * lift every limit exactly when the service is degraded, and failing closed
 * would turn a Redis outage into an API outage although commands need no
 * Redis. Meanwhile a caller gets the limit once per process, and its count
 * starts again from zero in memory; once Redis answers, the shared counts
 * apply again.
 */
export class SharedWindows {
  private readonly limiter: RateLimiterAbstract;
  private readonly insurance: RateLimiterAbstract;
  private readonly redisReady: RedisReadiness;
  private readonly points: number;
  private readonly leasePoints: number;
  private readonly leases = new Map<string, Lease>();
  /** Leases being taken, by key. */
  private readonly taking = new Map<string, Promise<WindowHit>>();

  constructor(redis: Redis, options: SharedWindowsOptions) {
    this.points = options.points;
    this.leasePoints = Math.max(1, Math.floor(options.leasePoints ?? options.points / 100));
    const timeoutMs = options.redisTimeoutMs ?? 250;
    const window = { points: options.points, duration: options.windowSeconds };
    this.insurance = new RateLimiterMemory(window);
    this.redisReady = new RedisReadiness(redis, timeoutMs);
    const shared = new RateLimiterRedis({
      ...window,
      storeClient: redis,
      keyPrefix: options.keyPrefix ?? 'aftersales:rate-limit',
      // The service's client queues commands while it reconnects (BullMQ needs that); a limit check must not wait in that queue.
      rejectIfRedisNotReady: true,
    });
    this.limiter = new RLWrapperTimeouts({ limiter: shared, timeoutMs, insuranceLimiter: this.insurance });
  }

  /** Counts one request against `key`. */
  async hit(key: string): Promise<WindowHit> {
    if (this.leasePoints === 1) return this.consume(key, 1);
    for (;;) {
      const leased = this.fromLease(key, Date.now());
      if (leased) return leased;
      const taking = this.taking.get(key);
      if (!taking) break;
      await taking.catch(() => undefined);
    }
    const taking = this.consume(key, this.leasePoints);
    this.taking.set(key, taking);
    try {
      return await taking;
    } finally {
      this.taking.delete(key);
    }
  }

  /** The request's answer from this process's lease on the key, when it has one that decides it. */
  private fromLease(key: string, now: number): WindowHit | undefined {
    const lease = this.leases.get(key);
    if (!lease || lease.endsAt <= now) return undefined;
    const secondsLeft = Math.max(1, Math.ceil((lease.endsAt - now) / 1000));
    if (lease.left > 0) {
      lease.left -= 1;
      return { allowed: true, remaining: lease.sharedRemaining + lease.left, secondsLeft };
    }
    // Nothing was left in the window for anyone: it stays so until the window ends.
    if (lease.sharedRemaining === 0) return { allowed: false, remaining: 0, secondsLeft };
    return undefined;
  }

  /** Takes `wanted` points from the key's window (one for this request, the rest leased) and answers the request. */
  private async consume(key: string, wanted: number): Promise<WindowHit> {
    // While Redis is away each request counts in memory on its own: nothing is leased from the insurance counts.
    const redisUp = await this.redisReady.ready();
    if (!redisUp) wanted = 1;
    let result: RateLimiterRes;
    try {
      result = await (redisUp ? this.limiter : this.insurance).consume(key, wanted);
    } catch (outcome) {
      // A refusal comes back as the rejection of consume, with the counts.
      if (!(outcome instanceof RateLimiterRes)) throw outcome;
      result = outcome;
    }
    // The count went up by `wanted` whatever was left; what was left before is ours, up to `wanted`.
    const granted = Math.max(0, Math.min(wanted, this.points - (result.consumedPoints - wanted)));
    const sharedRemaining = Math.max(0, Math.min(this.points, this.points - result.consumedPoints));
    const secondsLeft = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
    if (wanted > 1) this.keepLease(key, { left: Math.max(0, granted - 1), sharedRemaining, endsAt: Date.now() + result.msBeforeNext });
    if (granted === 0) return { allowed: false, remaining: 0, secondsLeft };
    return { allowed: true, remaining: sharedRemaining + Math.max(0, granted - 1), secondsLeft };
  }

  private keepLease(key: string, lease: Lease): void {
    if (this.leases.size >= MAX_LEASES && !this.leases.has(key)) {
      const now = Date.now();
      for (const [k, l] of this.leases) if (l.endsAt <= now) this.leases.delete(k);
      if (this.leases.size >= MAX_LEASES) this.leases.clear();
    }
    this.leases.set(key, lease);
  }
}

/**
 * Whether the Redis client is connected, waiting up to `timeoutMs` for it
 * to connect: a process that has just started (or a client reconnecting
 * after a blip) counts in Redis as soon as it can rather than in memory.
 * Once such a wait has timed out, requests stop waiting (they count in
 * memory at once) until the client reports it is ready again.
 */
class RedisReadiness {
  private away = false;
  private waiting: Promise<boolean> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly timeoutMs: number,
  ) {
    redis.on('ready', () => (this.away = false));
  }

  async ready(): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    if (this.away || this.redis.status === 'end') return false;
    // One wait (and one listener) however many requests arrive meanwhile.
    this.waiting ??= this.waitForReady().finally(() => (this.waiting = undefined));
    return this.waiting;
  }

  private waitForReady(): Promise<boolean> {
    return new Promise((resolve) => {
      const connected = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.redis.off('ready', connected);
        this.away = true;
        resolve(false);
      }, this.timeoutMs);
      this.redis.once('ready', connected);
    });
  }
}
