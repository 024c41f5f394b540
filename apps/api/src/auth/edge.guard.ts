import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { requestContext } from '../http/request-context';
import { problems, type ProblemException } from '../problem/problem';
import { CallerThrottlerGuard } from '../rate-limit/caller-throttler.guard';
import type { Role } from './caller';
import { IS_PUBLIC, ROLES_ALLOWED } from './decorators';
import { TokenRejectedError, TokenVerifier } from './token-verifier';

// The scheme is case-insensitive (RFC 9110); the token is three base64url segments.
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/i;

/**
 * The one global guard, so the order of API.md's checks is written in one
 * place rather than left to provider registration order:
 *   1. verify the bearer token (unless the route is public), keeping a failure;
 *   2. rate limit by the verified caller or, failing that, by IP, so floods
 *      of bad tokens are limited too;
 *   3. 401 for a missing or refused token;
 *   4. 403 for a role the route never serves.
 * Route guards (callback signatures) come next, then the interceptors (a
 * body the parser refused, then idempotency) and DTO validation (a pipe).
 */
@Injectable()
export class EdgeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly throttler: CallerThrottlerGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const state = requestContext(request.raw);
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true;

    let authenticationFailure: ProblemException | undefined;
    if (!isPublic) {
      const match = BEARER.exec(request.headers.authorization ?? '');
      if (!match) {
        authenticationFailure = problems.unauthorized('A bearer token is required: Authorization: Bearer <JWT>.');
      } else {
        try {
          state.caller = await this.verifier.verify(match[1]);
        } catch (error) {
          if (!(error instanceof TokenRejectedError)) throw error;
          authenticationFailure = problems.unauthorized(error.message);
        }
      }
    }

    await this.throttler.canActivate(context);
    if (authenticationFailure) throw authenticationFailure;

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_ALLOWED, targets);
    if (!isPublic && roles && state.caller && !roles.includes(state.caller.role)) {
      throw problems.forbidden(`The role ${state.caller.role} does not use this route.`);
    }
    return true;
  }
}
