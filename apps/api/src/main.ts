import 'reflect-metadata';
import { Logger, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, loadConfig, type AppConfig } from '@aftersales/config';
import { LocalRedisServer } from '@aftersales/scheduling';
import { ApiModule } from './api.module';
import { createFastifyAdapter } from './http/http-edge';
import { JsonLogger } from '@aftersales/application';
import { setupOpenApi } from './openapi/openapi';
import { MetricsService } from './metrics/metrics.service';

const SHUTDOWN_GRACE_MS = 8000;

/** The other roles a process runs beside the API (the worker, the projector), built from the final configuration. */
export type ExtraRoles = (config: AppConfig) => DynamicModule[];

/** Roles running beside the API outside its module tree (threads of the same process). */
export interface Companions {
  /** Their metrics in Prometheus text, served with the API's own at /metrics. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export interface ServeOptions {
  /** Roles imported into the API's own module tree, on its event loop. */
  extraRoles?: ExtraRoles;
  /**
   * Roles started beside it, given the resolved Redis; `failed` is called if
   * one of them stops working later, and the service then stops.
   */
  companions?: (config: AppConfig & { redisUrl: string }, failed: (error: Error) => void) => Promise<Companions>;
}

/**
 * Starts the API (and whatever roles `extraRoles` adds) as a foreground
 * service: configuration checked, a local redis-server when none is
 * configured, stopped cleanly on SIGTERM and SIGINT.
 */
export async function serve(options: ServeOptions = {}): Promise<void> {
  const extraRoles = options.extraRoles ?? (() => []);
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  // The embedded default: no REDIS_URL means this process starts and owns a
  // redis-server beside the SQLite file, with an append-only file so delayed
  // jobs survive a restart.
  let localRedis: LocalRedisServer | undefined;
  if (!config.redisUrl) {
    localRedis = await LocalRedisServer.start({ dir: join(dirname(resolve(config.eventStore.sqlitePath)), 'redis') });
    config = { ...config, redisUrl: localRedis.url };
  }

  let app: NestFastifyApplication | undefined;
  let companions: Companions | undefined;
  let started = false;
  const logger = new Logger('Main');
  // Set below, once the service runs; until then a failing companion fails the start instead.
  let stop: ((signal: NodeJS.Signals | 'companion failure') => Promise<void>) | undefined;
  const companionFailed = (error: Error): void => {
    if (!started) return;
    logger.error(`${error.message}; stopping the service`);
    process.exitCode = 1;
    void stop?.('companion failure');
  };
  try {
    const resolved = { ...config, redisUrl: config.redisUrl ?? '' };
    const companionsStarting = options.companions?.(resolved, companionFailed);
    companionsStarting?.catch(() => undefined);
    // Body parsing is the edge's own (HttpEdgeSetup): JSON only, refusals deferred until after authentication.
    app = await NestFactory.create<NestFastifyApplication>(ApiModule.register(config, extraRoles(config)), createFastifyAdapter(config.http), {
      bufferLogs: true,
      bodyParser: false,
    });
    app.useLogger(app.get(JsonLogger));
    setupOpenApi(app);
    companions = await companionsStarting;
    if (companions) app.get(MetricsService).addSource(companions.metrics);
    // /health answers 200 only once every role runs.
    await app.listen(config.http.port, config.http.host);
    started = true;
  } catch (error) {
    // A start that fails after the local redis-server or a companion started must not leave them running.
    await app?.close().catch(() => undefined);
    await companions?.stop();
    await localRedis?.stop();
    throw error;
  }
  const running = app;
  const address = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${config.http.port}`;
  logger.log(
    {
      eventStore: config.eventStore.kind,
      sqlitePath: config.eventStore.sqlitePath,
      redis: localRedis ? `${localRedis.url} (started by this process)` : 'REDIS_URL',
    },
    `After-sales service listening on ${address} (health ${address}/health, API docs ${address}/docs)`,
  );

  let stopping = false;
  stop = async (signal: NodeJS.Signals | 'companion failure'): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received, shutting down`);
    const forced = setTimeout(() => {
      process.stderr.write('Shutdown took too long; exiting\n');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    forced.unref();
    try {
      // The API first: no new commands; then the roles beside it finish their jobs.
      await running.close();
      await companions?.stop();
      await localRedis?.stop();
      process.exit(process.exitCode ?? 0);
    } catch (error) {
      process.stderr.write(`Shutdown failed: ${(error as Error).stack}\n`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', (signal) => void stop?.(signal));
  process.once('SIGINT', (signal) => void stop?.(signal));
}

/** Runs `serve` as a process's entry point: a start that fails says why and exits non-zero. */
export function runService(options?: ServeOptions): void {
  serve(options).catch((error: unknown) => {
    process.stderr.write(`Start failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

// Started directly (`node dist/apps/api/src/main.js`): the API role alone.
if (require.main === module) runService();
