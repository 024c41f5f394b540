import { SetMetadata, type Type } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export const ROUTE_CHECKS = 'aftersales:route-checks';

/**
 * A route's own check of a request (a callback's signature), run by
 * EdgeGuard after the role check and before the body is looked at. Throws
 * to refuse the request.
 */
export interface RouteCheck {
  check(request: FastifyRequest): Promise<void> | void;
}

/**
 * The route is also checked by these providers, in order, class ones first.
 * Used instead of Nest's `@UseGuards`, whose guards would run only after
 * EdgeGuard had answered a refused body: API.md puts a bad signature first.
 */
export const RouteChecks = (...checks: Array<Type<RouteCheck>>) => SetMetadata(ROUTE_CHECKS, checks);
