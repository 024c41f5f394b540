import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { requestContext } from '../http/request-context';

/** Paths never limited: orchestrators probe health as often as they like. */
const UNLIMITED_PATHS = new Set(['/health']);

/**
 * RATE_LIMIT_PER_MINUTE per caller across all routes: by the verified
 * token's `sub`, or by client IP when there is none. Counters live in this
 * process's memory (the throttler's default storage), so with several API
 * processes each allows the limit; a shared Redis storage would make it
 * global.
 */
@Injectable()
export class CallerThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return UNLIMITED_PATHS.has(request.url.split('?', 1)[0]);
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const fastifyRequest = request as unknown as FastifyRequest;
    const caller = requestContext(fastifyRequest.raw).caller;
    return caller ? `sub:${caller.id}` : `ip:${fastifyRequest.ip}`;
  }

  /** One budget per caller, not one per route. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }
}
