import { Injectable, type ExecutionContext, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IDEMPOTENCY_SENDER } from '../idempotency/idempotency-sender';
import type { Role } from './caller';
import { IS_PUBLIC, ROLES_ALLOWED } from './decorators';
import { ROUTE_CHECKS, type RouteCheck } from './route-check';

/** What EdgeGuard does for one route, as its decorators say. */
export interface EdgeRoute {
  isPublic: boolean;
  /** Undefined: every authenticated role. */
  roles?: readonly Role[];
  checks: ReadonlyArray<Type<RouteCheck>>;
  /** Scopes idempotency keys on a public route with a signed sender. */
  idempotencySender?: string;
}

/**
 * Reads a route's edge decorators once and keeps the answer: metadata never
 * changes after start, and the guard asks on every request.
 */
@Injectable()
export class EdgeRoutes {
  private readonly routes = new WeakMap<Type, Map<Function, EdgeRoute>>();

  constructor(private readonly reflector: Reflector) {}

  of(context: ExecutionContext): EdgeRoute {
    const controller = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.routes.get(controller);
    if (!byHandler) {
      byHandler = new Map();
      this.routes.set(controller, byHandler);
    }
    let route = byHandler.get(handler);
    if (!route) {
      route = this.read(controller, handler);
      byHandler.set(handler, route);
    }
    return route;
  }

  private read(controller: Type, handler: Function): EdgeRoute {
    const nearestFirst = [handler, controller];
    return {
      isPublic: this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, nearestFirst) === true,
      roles: this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_ALLOWED, nearestFirst),
      checks: this.reflector.getAllAndMerge<Array<Type<RouteCheck>>>(ROUTE_CHECKS, [controller, handler]),
      idempotencySender: this.reflector.getAllAndOverride<string | undefined>(IDEMPOTENCY_SENDER, nearestFirst),
    };
  }
}
