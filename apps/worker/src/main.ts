import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JsonLogger, createRootLogger } from '@aftersales/application';
import { ConfigError, loadConfig, type AppConfig } from '@aftersales/config';
import { WorkerProcessModule } from './worker-process.module';

/**
 * The worker role alone, for scaling out (ARCHITECTURE.md rule 8): as many
 * processes as needed against one Redis (REDIS_URL, required here) and one
 * event store. `npm start` runs this role in a thread of the one service process.
 */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
    if (!config.redisUrl) throw new ConfigError(['REDIS_URL: is required to run the worker on its own']);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // JSON lines like the API's (pino at LOG_LEVEL).
  const app = await NestFactory.createApplicationContext(WorkerProcessModule.register(config), {
    logger: new JsonLogger(createRootLogger(config.logLevel)),
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  new Logger('Worker').log('worker started');
}

main().catch((error: unknown) => {
  process.stderr.write(`Start failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
