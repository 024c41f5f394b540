import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestContext } from '../http/request-context';
import { IdempotencyGate } from '../idempotency/idempotency-gate';
import { ProblemException, problems } from '../problem/problem';
import { CallerRateLimiter } from '../rate-limit/caller-rate-limiter';
import { EdgeRoutes } from './edge-routes';
import type { RouteCheck } from './route-check';
import { TokenRejectedError, TokenVerificationUnavailableError, TokenVerifier } from './token-verifier';

// The scheme is case-insensitive (RFC 9110); the token is three base64url segments.
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i;

/**
 * The one global guard, and the service has no interceptors, so the order of
 * API.md's checks is written in one place rather than left to provider
 * registration order:
 *   1. verify the bearer token (unless the route is public), keeping a failure;
 *   2. rate limit by the verified caller or, failing that, by IP, so floods
 *      of bad tokens are limited too;
 *   3. 401 for a missing or refused token;
 *   4. 403 for a role the route never serves;
 *   5. the route's own checks (`@RouteChecks`: a callback's signature, 401);
 *   6. 400 or 415 for a body the parser refused (kept on the request context);
 *   7. the Idempotency-Key (IdempotencyGate): 400 for a malformed key, the
 *      recorded response again, 422 for another body, 409 while the first
 *      request runs; otherwise the key is claimed for this request.
 * DTO validation (a global pipe) and the handler come after.
 */
@Injectable()
export class EdgeGuard implements CanActivate {
  constructor(
    private readonly routes: EdgeRoutes,
    private readonly verifier: TokenVerifier,
    private readonly rateLimiter: CallerRateLimiter,
    private readonly idempotency: IdempotencyGate,
    private readonly moduleRef: ModuleRef,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const state = requestContext(request.raw);
    const route = this.routes.of(context);

    let authenticationFailure: ProblemException | undefined;
    if (!route.isPublic) {
      const match = BEARER.exec(request.headers.authorization ?? '');
      if (!match) {
        authenticationFailure = problems.unauthorized('A bearer token is required: Authorization: Bearer <JWT>.');
      } else {
        try {
          state.caller = await this.verifier.verify(match[1]);
        } catch (error) {
          if (error instanceof TokenVerificationUnavailableError) {
            authenticationFailure = new ProblemException(503, 'Service Unavailable', error.message, {}, { headers: { 'Retry-After': '5' } });
          } else if (error instanceof TokenRejectedError) {
            authenticationFailure = problems.unauthorized(error.message);
          } else {
            throw error;
          }
        }
      }
    }

    await this.rateLimiter.check(request, context.switchToHttp().getResponse<FastifyReply>());
    if (authenticationFailure) throw authenticationFailure;

    if (!route.isPublic && route.roles && state.caller && !route.roles.includes(state.caller.role)) {
      throw problems.forbidden(`The role ${state.caller.role} does not use this route.`);
    }

    for (const check of route.checks) {
      await this.moduleRef.get<RouteCheck>(check, { strict: false }).check(request);
    }
    if (state.deferredBodyError) throw state.deferredBodyError;
    await this.idempotency.claim(request, route.idempotencySender);
    return true;
  }
}
