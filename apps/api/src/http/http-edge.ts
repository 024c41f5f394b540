import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { AppConfig } from '@aftersales/config';
import { ProblemException } from '../problem/problem';
import { CORRELATION_HEADER, correlationIdOf } from './correlation';
import { parseJsonBody } from './json-body';
import { requestContext } from './request-context';

export const BODY_LIMIT_BYTES = 1_048_576;

/**
 * The Fastify adapter the service runs on. Prototype poisoning is an error in
 * any parser Fastify itself would use; the request id is the correlation id,
 * so Fastify's own `request.id` agrees with the logs. `trustProxy`
 * (TRUST_PROXY) says whose X-Forwarded-For names the client, so `request.ip`
 * (the rate limit of callers without a token) is the client behind a load balancer.
 */
export function createFastifyAdapter(http: Pick<AppConfig['http'], 'trustProxy'> = { trustProxy: false }): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: typeof http.trustProxy === 'number' ? trustHops(http.trustProxy) : http.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    genReqId: (raw: IncomingMessage) => correlationIdOf(raw),
  });
}

/** Trusts the `hops` proxies nearest to the service, as Fastify's numeric trustProxy does. */
const trustHops =
  (hops: number) =>
  (_address: string, hop: number): boolean =>
    hop < hops;

/**
 * Body parsing and correlation on the Fastify instance, installed as the
 * module starts so a test application gets exactly what the service runs.
 *
 * Parsers never fail the request themselves: a refused body is kept on the
 * request context and answered by EdgeGuard after authentication, role and
 * route checks. Only an oversized body (413) is answered at once, before it
 * is read.
 */
@Injectable()
export class HttpEdgeSetup implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Fastify's text/plain parser and Nest's urlencoded one would hand a DTO
    // something other than JSON; only JSON is accepted.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
      const context = requestContext(request.raw);
      context.rawBody = body as Buffer;
      const parsed = parseJsonBody(body as Buffer);
      if (parsed.ok) {
        done(null, parsed.value);
      } else {
        context.deferredBodyError = parsed.problem;
        done(null, undefined);
      }
    });
    fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
      const context = requestContext(request.raw);
      context.rawBody = body as Buffer;
      const given = request.headers['content-type'] ?? '(none)';
      context.deferredBodyError = new ProblemException(415, 'Unsupported Media Type', `Content-Type ${given} is not accepted; send application/json.`);
      done(null, undefined);
    });
    fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
      reply.header(CORRELATION_HEADER, correlationIdOf(request.raw));
      done(null, payload);
    });
  }
}
