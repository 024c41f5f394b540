import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JsonLogger, createRootLogger } from '@aftersales/application';
import { ConfigError, loadConfig, type AppConfig } from '@aftersales/config';
import { ProjectorAppModule } from './projector-app.module';

const SHUTDOWN_GRACE_MS = 8000;

/**
 * The projector alone (headless): `node dist/apps/projector/src/main.js`.
 * Several may run at once; each projection is run by one of them at a time.
 */
async function main(): Promise<void> {
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
  const app = await NestFactory.createApplicationContext(ProjectorAppModule.register(config), {
    // JSON lines like the API's (pino at LOG_LEVEL).
    logger: new JsonLogger(createRootLogger(config.logLevel)),
  });
  await app.init();
  const logger = new Logger('Projector');
  logger.log({ readStore: config.readStore.kind }, 'Projector running');

  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received, shutting down`);
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      process.stderr.write(`Shutdown failed: ${(error as Error).stack}\n`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}

main().catch((error: unknown) => {
  process.stderr.write(`Start failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
