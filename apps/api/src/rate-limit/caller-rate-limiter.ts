import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { APP_CONFIG, REDIS } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { requestContext } from '../http/request-context';
import { ProblemException } from '../problem/problem';
import { SharedWindows } from './shared-windows';

const WINDOW_SECONDS = 60;
/** Paths never limited: orchestrators probe health as often as they like. */
const UNLIMITED_PATHS = new Set(['/health']);

/**
 * RATE_LIMIT_PER_MINUTE per caller across all routes: by the verified
 * token's `sub`, or by client IP when there is none, so floods of bad tokens
 * are limited too. Counters live in Redis, shared by every API process (see
 * SharedWindows for what happens while Redis is away). Every limited
 * response carries `X-RateLimit-Limit`, `-Remaining` and `-Reset`
 * (seconds); a refusal is 429 problem+json with `Retry-After`.
 */
@Injectable()
export class CallerRateLimiter {
  private readonly limit: number;
  private readonly windows: SharedWindows;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS) redis: Redis) {
    this.limit = config.rateLimitPerMinute;
    this.windows = new SharedWindows(redis, { points: this.limit, windowSeconds: WINDOW_SECONDS });
  }

  /** Counts the request against its caller (known by now, or not); throws 429 above the limit. */
  async check(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const path = request.url.split('?', 1)[0];
    if (UNLIMITED_PATHS.has(path)) return;
    const caller = requestContext(request.raw).caller;
    const { allowed, remaining, secondsLeft } = await this.windows.hit(caller ? `sub:${caller.id}` : `ip:${request.ip}`);
    reply.header('X-RateLimit-Limit', this.limit);
    reply.header('X-RateLimit-Remaining', remaining);
    reply.header('X-RateLimit-Reset', secondsLeft);
    if (!allowed) {
      throw new ProblemException(429, 'Too Many Requests', 'Too many requests from this caller; retry after the number of seconds in Retry-After.', {}, {
        headers: { 'Retry-After': String(secondsLeft) },
      });
    }
  }
}
