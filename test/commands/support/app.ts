import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import request from 'supertest';
import { Clock, EVENT_STORE } from '@aftersales/application';
import { DEVELOPMENT_JWT_SECRET, loadConfig } from '@aftersales/config';
import type { EventStore } from '@aftersales/event-store';
import { LocalRedisServer } from '@aftersales/scheduling';
import { ApiModule } from '../../../apps/api/src/api.module';
import { createFastifyAdapter } from '../../../apps/api/src/http/http-edge';
import { JsonLogger } from '@aftersales/application';
import { setupOpenApi } from '../../../apps/api/src/openapi/openapi';

/**
 * The system clock, unless a test moves it: waits such as `urgeMinWait` are
 * hours long, and a test should not sleep through them.
 */
export class MovableClock extends Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}

export interface TokenClaims {
  sub: string;
  role: string;
  merchantId?: string;
  businessLine?: string;
  authorityLimit?: number;
}

/** A development token as `npm run token` makes them: HS256, iss aftersales, aud aftersales-api, 10 minutes. */
export async function token(claims: TokenClaims): Promise<string> {
  const { sub, ...rest } = claims;
  return new SignJWT(rest as Record<string, unknown>)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer('aftersales')
    .setAudience('aftersales-api')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(DEVELOPMENT_JWT_SECRET));
}

type Method = 'get' | 'post' | 'put';

export interface CommandApp {
  app: NestFastifyApplication;
  store: EventStore;
  clock: MovableClock;
  /** An HTTP call as the holder of `bearer` (none: anonymous). */
  call(method: Method, path: string, bearer?: string, body?: unknown, headers?: Record<string, string>): Promise<request.Response>;
  /** Global position of the last event stored: equal before and after means nothing was appended. */
  head(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The API as main.ts builds it (ApiModule.register on Fastify, the edge's own
 * body parsing, the OpenAPI document) plus the command routes, on a fresh
 * SQLite file and a private redis-server, driven over real HTTP.
 */
export async function startCommandApp(): Promise<CommandApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aftersales-commands-'));
  const redis = await LocalRedisServer.start({ dir: join(dataDir, 'redis'), persistent: false });
  const config = loadConfig({ LOG_LEVEL: 'silent', SQLITE_PATH: join(dataDir, 'aftersales.db'), REDIS_URL: redis.url });
  const clock = new MovableClock();

  let app: NestFastifyApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule.register(config)] })
      .overrideProvider(Clock)
      .useValue(clock)
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { bodyParser: false, bufferLogs: true });
    app.useLogger(app.get(JsonLogger));
    setupOpenApi(app, { ui: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    await app?.close();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  const started = app;
  const store = started.get<EventStore>(EVENT_STORE);
  return {
    app: started,
    store,
    clock,
    call(method, path, bearer, body, headers = {}) {
      let call = request(started.getHttpServer())[method](path);
      if (bearer) call = call.set('Authorization', `Bearer ${bearer}`);
      for (const [name, value] of Object.entries(headers)) call = call.set(name, value);
      return body === undefined ? call : call.send(body as object);
    },
    head: () => store.headPosition(),
    async close() {
      await started.close();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Two lines: L1 two units for 20000 (no-reason returns allowed), L2 one unit for 9999; shipping 1000. */
export function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    buyerId: 'u-buyer',
    merchantId: 'm1',
    currency: 'CNY',
    paidAmount: 30_999,
    shippingFee: 1_000,
    paymentMethod: 'card',
    paymentAccount: 'acct-1',
    buyerTrustScore: 100,
    returnShippingInsured: false,
    businessLine: 'apparel',
    placedAt: new Date(Date.now() - 5 * 86_400_000).toISOString(),
    lines: [
      { lineId: 'L1', sku: 'TEE-M', productId: 'p-tee', title: 'Tee', category: 'tops', supplierId: 's-1', quantity: 2, unitPrice: 10_000, paidAmount: 20_000, noReasonReturn: true },
      { lineId: 'L2', sku: 'CAP', productId: 'p-cap', title: 'Cap', category: 'hats', supplierId: 's-2', quantity: 1, unitPrice: 9_999, paidAmount: 9_999, noReasonReturn: false },
    ],
    ...overrides,
  };
}

export const PROBLEM = /^application\/problem\+json/;

export const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString();
