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

const SHUTDOWN_GRACE_MS = 8000;

/** The other roles a process runs beside the API (the worker, the projector), built from the final configuration. */
export type ExtraRoles = (config: AppConfig) => DynamicModule[];

/**
 * Starts the API (and whatever roles `extraRoles` adds) as a foreground
 * service: configuration checked, a local redis-server when none is
 * configured, stopped cleanly on SIGTERM and SIGINT.
 */
export async function serve(extraRoles: ExtraRoles = () => []): Promise<void> {
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

  let app: NestFastifyApplication;
  try {
    // Body parsing is the edge's own (HttpEdgeSetup): JSON only, refusals deferred until after authentication.
    app = await NestFactory.create<NestFastifyApplication>(ApiModule.register(config, extraRoles(config)), createFastifyAdapter(config.http), {
      bufferLogs: true,
      bodyParser: false,
    });
    app.useLogger(app.get(JsonLogger));
    setupOpenApi(app);
    await app.listen(config.http.port, config.http.host);
  } catch (error) {
    // A start that fails after the local redis-server started must not leave it running.
    await localRedis?.stop();
    throw error;
  }
  const logger = new Logger('Main');
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
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received, shutting down`);
    const forced = setTimeout(() => {
      process.stderr.write('Shutdown took too long; exiting\n');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    forced.unref();
    try {
      await app.close();
      await localRedis?.stop();
      process.exit(0);
    } catch (error) {
      process.stderr.write(`Shutdown failed: ${(error as Error).stack}\n`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

/** Runs `serve` as a process's entry point: a start that fails says why and exits non-zero. */
export function runService(extraRoles?: ExtraRoles): void {
  serve(extraRoles).catch((error: unknown) => {
    process.stderr.write(`Start failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}

// Started directly (`node dist/apps/api/src/main.js`): the API role alone.
if (require.main === module) runService();
