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
}

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

  constructor(redis: Redis, options: SharedWindowsOptions) {
    this.points = options.points;
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
    const limiter = (await this.redisReady.ready()) ? this.limiter : this.insurance;
    try {
      return this.fared(await limiter.consume(key), true);
    } catch (outcome) {
      // A refusal comes back as the rejection of consume, with the counts.
      if (outcome instanceof RateLimiterRes) return this.fared(outcome, false);
      throw outcome;
    }
  }

  private fared(result: RateLimiterRes, allowed: boolean): WindowHit {
    return {
      allowed,
      remaining: allowed ? Math.max(0, Math.min(this.points, result.remainingPoints)) : 0,
      secondsLeft: Math.max(1, Math.ceil(result.msBeforeNext / 1000)),
    };
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
