import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { bullConnection, QUEUE_NAMES, WEBHOOK_QUEUE } from '@aftersales/scheduling';
import { TokenRejectedError, TokenVerificationUnavailableError, TokenVerifier } from '../auth/token-verifier';
import { statusTitle } from '../problem/problem';

export const DASHBOARD_PATH = '/queues';
/** The dashboard is a browser page: after one visit with `?token=`, the admin's token rides in this cookie. */
const COOKIE = 'aftersales_queues';

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/**
 * Bull Board at /queues (ARCHITECTURE.md), for admins only: every queue the
 * worker runs, with its jobs, their data and failures, and retry or remove
 * by hand. The API process opens its own BullMQ connections for it, so the
 * dashboard works whether or not a worker runs in this process.
 *
 * It is a page, not an API: a browser cannot add a bearer header, so an
 * admin opens `/queues?token=<admin JWT>` once and the token is kept in an
 * HttpOnly, SameSite=Strict cookie scoped to /queues. Every request is
 * verified like any other (signature, expiry, role admin).
 */
@Injectable()
export class QueuesDashboard implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(QueuesDashboard.name);
  private queues: Queue[] = [];

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly tokens: TokenVerifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.redisUrl) return;
    const connection = bullConnection(this.config.redisUrl);
    this.queues = [...QUEUE_NAMES, WEBHOOK_QUEUE].map((name) => new Queue(name, { connection }));
    // A Redis that is down is /health's to report; without a listener each reconnect attempt would print a stack.
    let warned = false;
    for (const queue of this.queues) {
      queue.on('error', (error: Error) => {
        if (warned) return;
        warned = true;
        this.logger.warn(`queue dashboard cannot reach Redis: ${error.message}`);
      });
    }
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(DASHBOARD_PATH);
    createBullBoard({ queues: this.queues.map((queue) => new BullMQAdapter(queue)), serverAdapter, options: { uiConfig: { boardTitle: 'After-sales queues' } } });
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Not awaited: awaiting a registration here would load Fastify's plugins before Nest has added its own
    // (content parsers, error handler), and requests would lose their problem+json errors.
    void fastify.register(async (scope) => {
      scope.addHook('onRequest', (request, reply) => this.admit(request, reply));
      await scope.register(serverAdapter.registerPlugin() as never, { prefix: DASHBOARD_PATH });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.close().catch(() => undefined)));
  }

  /** Admins only; a `?token=` visit turns into the cookie and a redirect that drops the token from the address. */
  private async admit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const query = request.query as { token?: unknown } | undefined;
    const fromQuery = typeof query?.token === 'string' ? query.token : undefined;
    const header = request.headers.authorization;
    const token = fromQuery ?? (header?.startsWith('Bearer ') ? header.slice(7) : cookieToken(request.headers.cookie));
    if (!token) return this.refuse(reply, 401, 'Open /queues?token=<admin token> once, or send Authorization: Bearer <admin token>.');
    try {
      const caller = await this.tokens.verify(token);
      if (caller.role !== 'admin') return this.refuse(reply, 403, 'The queue dashboard is for admins.');
    } catch (error) {
      if (error instanceof TokenVerificationUnavailableError) return this.refuse(reply, 503, 'Tokens cannot be verified right now.');
      if (error instanceof TokenRejectedError) return this.refuse(reply, 401, `Token refused: ${error.message}`);
      this.logger.error(`dashboard admission failed: ${(error as Error).message}`);
      return this.refuse(reply, 503, 'Tokens cannot be verified right now.');
    }
    if (fromQuery) {
      const secure = request.protocol === 'https' ? '; Secure' : '';
      reply.header('set-cookie', `${COOKIE}=${encodeURIComponent(fromQuery)}; Path=${DASHBOARD_PATH}; HttpOnly; SameSite=Strict${secure}`);
      return reply.redirect(request.url.split('?')[0] ?? DASHBOARD_PATH, 303);
    }
  }

  private refuse(reply: FastifyReply, status: number, detail: string): FastifyReply {
    return reply
      .code(status)
      .header('content-type', 'application/problem+json')
      .send({ type: 'about:blank', title: statusTitle(status), status, detail });
  }
}
