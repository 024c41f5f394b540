import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { correlationIdOf } from '../http/correlation';
import { requestContext } from '../http/request-context';
import { ROOT_LOGGER } from '@aftersales/application';

/** Probed every few seconds by orchestrators; a line each would drown the rest. */
const UNLOGGED_URLS = new Set(['/health']);

/** What the access log says about one answered request. */
export interface AccessLine {
  correlationId: string;
  method: string;
  url: string;
  statusCode: number;
  /** Milliseconds from receiving the request to finishing the response. */
  responseTime: number;
  /** Present when the request carried a verified token. */
  caller?: { role: string; id: string };
}

export function accessLine(request: FastifyRequest, reply: FastifyReply): AccessLine {
  const caller = requestContext(request.raw).caller;
  const line: AccessLine = {
    correlationId: correlationIdOf(request.raw),
    method: request.method,
    url: request.url,
    statusCode: reply.statusCode,
    responseTime: Math.round(reply.elapsedTime * 1000) / 1000,
  };
  if (caller) line.caller = { role: caller.role, id: caller.id };
  return line;
}

/**
 * One `info` line per answered request, written from Fastify's onResponse
 * hook with the root logger itself: no child logger and no async context
 * per request. Headers are not logged, so a token never is.
 */
@Injectable()
export class AccessLog implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(ROOT_LOGGER) private readonly root: Logger,
  ) {}

  onModuleInit(): void {
    // Below info (the benchmark runs at warn) the hook is not even installed.
    if (!this.root.isLevelEnabled('info')) return;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (!UNLOGGED_URLS.has(request.url)) this.root.info(accessLine(request, reply), 'request completed');
      done();
    });
  }
}
