import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { requestContext } from '../http/request-context';
import { ProblemException } from '../problem/problem';
import { FixedWindows } from './fixed-windows';

const WINDOW_MS = 60_000;
/** Paths never limited: orchestrators probe health as often as they like. */
const UNLIMITED_PATHS = new Set(['/health']);

/**
 * RATE_LIMIT_PER_MINUTE per caller across all routes: by the verified
 * token's `sub`, or by client IP when there is none, so floods of bad tokens
 * are limited too. Counters live in this process's memory; with several API
 * processes each allows the limit. Every limited response carries
 * `X-RateLimit-Limit`, `-Remaining` and `-Reset` (seconds); a refusal is 429
 * problem+json with `Retry-After`.
 */
@Injectable()
export class CallerRateLimiter {
  private readonly limit: number;
  private readonly windows = new FixedWindows(WINDOW_MS);

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.limit = config.rateLimitPerMinute;
  }

  /** Counts the request against its caller (known by now, or not); throws 429 above the limit. */
  check(request: FastifyRequest, reply: FastifyReply): void {
    const path = request.url.split('?', 1)[0];
    if (UNLIMITED_PATHS.has(path)) return;
    const caller = requestContext(request.raw).caller;
    const { hits, secondsLeft } = this.windows.hit(caller ? `sub:${caller.id}` : `ip:${request.ip}`, Date.now());
    reply.header('X-RateLimit-Limit', this.limit);
    reply.header('X-RateLimit-Remaining', Math.max(0, this.limit - hits));
    reply.header('X-RateLimit-Reset', secondsLeft);
    if (hits > this.limit) {
      throw new ProblemException(429, 'Too Many Requests', 'Too many requests from this caller; retry after the number of seconds in Retry-After.', {}, {
        headers: { 'Retry-After': String(secondsLeft) },
      });
    }
  }
}
