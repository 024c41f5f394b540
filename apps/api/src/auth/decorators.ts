import { SetMetadata, applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { requestContext } from '../http/request-context';
import type { Caller, Role } from './caller';

export const IS_PUBLIC = 'aftersales:public';
export const ROLES_ALLOWED = 'aftersales:roles';
/** OpenAPI extension the document builder reads to leave bearer auth off a public operation. */
export const OPENAPI_PUBLIC_EXTENSION = 'x-public';

/** The route needs no bearer token (health, docs, metrics, signed callbacks). */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiExtension(OPENAPI_PUBLIC_EXTENSION, true));

/** Only these roles ever use the route; any other authenticated caller gets 403. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_ALLOWED, roles);

/** Handler parameter: the verified caller. Only on routes that are not `@Public()`. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = requestContext(context.switchToHttp().getRequest<FastifyRequest>().raw).caller;
  if (!caller) throw new Error('@CurrentCaller() used on a route without an authenticated caller');
  return caller;
});
