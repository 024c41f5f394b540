import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import type { RouteCheck } from '../auth/route-check';
import { problems } from '../problem/problem';

const BEARER = /^Bearer +(\S+)$/i;
const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Who may scrape /metrics (it names routes, commands and volumes). With
 * METRICS_TOKEN set, whoever sends `Authorization: Bearer <METRICS_TOKEN>`;
 * without it, only callers on this machine, judged by the socket itself so
 * no X-Forwarded-For can pass for local.
 */
@Injectable()
export class MetricsAccessCheck implements RouteCheck {
  private readonly token?: Buffer;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.token = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  check(request: FastifyRequest): void {
    if (this.token === undefined) {
      if (LOOPBACK.test(request.raw.socket.remoteAddress ?? '')) return;
      throw problems.forbidden('/metrics answers only callers on this machine; set METRICS_TOKEN to scrape it from elsewhere with Authorization: Bearer <METRICS_TOKEN>.');
    }
    const given = BEARER.exec(request.headers.authorization ?? '')?.[1];
    // Compared as digests: equal lengths, and no timing hint about the token.
    if (given === undefined || !timingSafeEqual(digest(given), this.token)) {
      throw problems.unauthorized('/metrics needs Authorization: Bearer <METRICS_TOKEN>.');
    }
  }
}
