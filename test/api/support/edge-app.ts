import { Body, Controller, Get, HttpCode, Injectable, Post, Put, Res } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsInt, IsOptional, IsString, Matches, MaxLength, Min, ValidateNested } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVELOPMENT_JWT_SECRET, loadConfig, type AppConfig } from '@aftersales/config';
import { LocalRedisServer } from '@aftersales/scheduling';
import { SignJWT } from 'jose';
import { ApiModule } from '../../../apps/api/src/api.module';
import { CurrentCaller, Public, Roles } from '../../../apps/api/src/auth/decorators';
import type { Caller } from '../../../apps/api/src/auth/caller';
import { RouteChecks, type RouteCheck } from '../../../apps/api/src/auth/route-check';
import { CorrelationId } from '../../../apps/api/src/http/correlation';
import { IdempotencySender } from '../../../apps/api/src/idempotency/idempotency-sender';
import { createFastifyAdapter } from '../../../apps/api/src/http/http-edge';
import { JsonLogger } from '@aftersales/application';
import { ROOT_LOGGER } from '@aftersales/application';
import { setupOpenApi } from '../../../apps/api/src/openapi/openapi';
import { problems } from '../../../apps/api/src/problem/problem';

class EchoLine {
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  lineId!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

export class EchoBody {
  @IsString()
  @MaxLength(2000)
  text!: string;

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => EchoLine)
  lines?: EchoLine[];
}

/** Counts how often each handler really ran, so a replay can be told from a second run. */
export const handlerRuns = { echo: 0, put: 0, conflict: 0, held: 0, callback: 0, unsent: 0 };

/** Holds `POST /v1/held` inside its handler until the test opens it. */
export const gate = {
  open: (): void => undefined,
  closed: Promise.resolve(),
  close(): void {
    this.closed = new Promise<void>((resolve) => (this.open = resolve));
  },
};

/** Stands in for the callbacks' signature check: a route check on a public route. */
@Injectable()
class SignedCallbackCheck implements RouteCheck {
  check(request: FastifyRequest): void {
    if (request.headers['x-signature'] !== 'valid') throw problems.unauthorized('The signature is missing or wrong.');
  }
}

/** A test-only route set: what later command routes will look like to the edge. */
@Controller('v1')
export class EchoController {
  @Post('echo')
  @Roles('buyer')
  @HttpCode(200)
  echo(@Body() body: EchoBody, @CurrentCaller() caller: Caller, @CorrelationId() correlationId: string) {
    handlerRuns.echo += 1;
    return { text: body.text, lines: body.lines ?? [], caller, correlationId, run: handlerRuns.echo };
  }

  @Put('things/:id')
  @Roles('integration', 'buyer')
  put(@Body() body: EchoBody, @Res({ passthrough: true }) reply: FastifyReply) {
    handlerRuns.put += 1;
    reply.status(handlerRuns.put === 1 ? 201 : 200).header('ETag', `"${handlerRuns.put}"`);
    return { text: body.text, run: handlerRuns.put };
  }

  @Post('refuse')
  @HttpCode(200)
  refuse(@Body() body: EchoBody) {
    handlerRuns.conflict += 1;
    throw problems.actionNotAllowed(`Cannot ${body.text} now.`, ['withdraw', 'urge']);
  }

  @Post('held')
  @HttpCode(200)
  async held(@Body() body: EchoBody) {
    handlerRuns.held += 1;
    await gate.closed;
    return { text: body.text, done: true };
  }

  /** Answers on the raw socket, past Fastify's send and its onSend hooks. */
  @Post('unsent')
  unsent(@Body() body: EchoBody, @Res() reply: FastifyReply): void {
    handlerRuns.unsent += 1;
    reply.raw.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: body.text }));
  }

  @Get('whoami')
  whoami(@CurrentCaller() caller: Caller) {
    return caller;
  }

  @Get('boom')
  boom(): never {
    throw new Error('database password is hunter2');
  }

  @Post('callback')
  @Public()
  @RouteChecks(SignedCallbackCheck)
  @IdempotencySender('logistics')
  @HttpCode(200)
  callback(@Body() body: EchoBody) {
    handlerRuns.callback += 1;
    return { acknowledged: body.text, run: handlerRuns.callback };
  }

  @Post('open')
  @Public()
  @HttpCode(200)
  open(@Body() body: EchoBody) {
    return { text: body.text };
  }
}

export interface EdgeEnvironment {
  dataDir: string;
  redis: LocalRedisServer;
  cleanup(): Promise<void>;
}

export async function startEnvironment(): Promise<EdgeEnvironment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aftersales-api-'));
  const environment: EdgeEnvironment = {
    dataDir,
    redis: await LocalRedisServer.start({ dir: join(dataDir, 'redis'), persistent: false }),
    async cleanup() {
      // The current server: a test may have replaced it.
      await environment.redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return environment;
}

export function edgeConfig(environment: EdgeEnvironment, env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    LOG_LEVEL: 'silent',
    SQLITE_PATH: join(environment.dataDir, 'aftersales.db'),
    REDIS_URL: environment.redis.url,
    ...env,
  });
}

/**
 * The real ApiModule on Fastify, with the echo routes, set up as main.ts sets up the service.
 * `rootLogger` replaces the one config.logLevel would make, so a test can read what is logged.
 */
export async function createEdgeApp(config: AppConfig, options: { rootLogger?: Logger } = {}): Promise<NestFastifyApplication> {
  const builder = Test.createTestingModule({ imports: [ApiModule.register(config)], controllers: [EchoController], providers: [SignedCallbackCheck] });
  if (options.rootLogger) builder.overrideProvider(ROOT_LOGGER).useValue(options.rootLogger);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(config.http), { bodyParser: false, bufferLogs: true });
  app.useLogger(app.get(JsonLogger));
  setupOpenApi(app, { ui: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

export interface TokenClaims {
  sub?: string;
  role?: string;
  merchantId?: string;
  businessLine?: string;
  authorityLimit?: unknown;
}

export async function token(
  claims: TokenClaims,
  options: { secret?: string; issuer?: string; audience?: string; expiresIn?: string | number | null } = {},
): Promise<string> {
  const { sub, ...rest } = claims;
  let jwt = new SignJWT(rest as Record<string, unknown>)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(options.issuer ?? 'aftersales')
    .setAudience(options.audience ?? 'aftersales-api')
    .setIssuedAt();
  if (sub !== undefined) jwt = jwt.setSubject(sub);
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(options.expiresIn ?? '5m');
  return jwt.sign(new TextEncoder().encode(options.secret ?? DEVELOPMENT_JWT_SECRET));
}
