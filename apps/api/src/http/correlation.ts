import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { requestContext } from './request-context';

export const CORRELATION_HEADER = 'x-correlation-id';
const ACCEPTED_CORRELATION_ID = /^[\w.-]{1,128}$/;

/**
 * The request's correlation id: the client's `X-Correlation-Id` when it is a
 * plain token, a new UUID otherwise. Decided once per request, whoever asks
 * first (Fastify's request id, a hook, the access log or a handler), so logs,
 * the response header and events' metadata carry the same id.
 */
export function correlationIdOf(raw: IncomingMessage): string {
  const context = requestContext(raw);
  if (context.correlationId === undefined) {
    const given = raw.headers[CORRELATION_HEADER];
    context.correlationId = typeof given === 'string' && ACCEPTED_CORRELATION_ID.test(given) ? given : randomUUID();
  }
  return context.correlationId;
}

/** Handler parameter: the request's correlation id, for events' `metadata.correlationId`. */
export const CorrelationId = createParamDecorator((_data: unknown, context: ExecutionContext): string =>
  correlationIdOf(context.switchToHttp().getRequest<FastifyRequest>().raw),
);
