import 'reflect-metadata';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { JsonLogger, METRICS_REGISTRY, createRootLogger, registerThreadCpu } from '@aftersales/application';
import { loadConfig } from '@aftersales/config';
import { ProjectorAppModule } from '../../projector/src/projector-app.module';
import { WorkerProcessModule } from '../../worker/src/worker-process.module';
import type { FromRoleThread, RoleThreadData, ToRoleThread } from './role-protocol';

/** The role's own metrics (queue depths, lateness, reactor lag, ...), scraped through the API's /metrics. */
@Global()
@Module({})
class RoleThreadModule {
  static register(role: DynamicModule, registry: Registry): DynamicModule {
    return {
      module: RoleThreadModule,
      imports: [role],
      providers: [{ provide: METRICS_REGISTRY, useValue: registry }],
      exports: [METRICS_REGISTRY],
    };
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('role-thread runs only as a worker thread of the service');
  const send = (message: FromRoleThread): void => port.postMessage(message);
  const { role, redisUrl } = workerData as RoleThreadData;
  // The main thread validated the same environment before it started this thread.
  const config = { ...loadConfig(), redisUrl };
  const registry = new Registry();
  registerThreadCpu(registry, role);
  const roleModule = role === 'worker' ? WorkerProcessModule.register(config) : ProjectorAppModule.register(config);
  const app = await NestFactory.createApplicationContext(RoleThreadModule.register(roleModule, registry), {
    logger: new JsonLogger(createRootLogger(config.logLevel)),
  });
  await app.init();

  let stopping = false;
  port.on('message', (message: ToRoleThread) => {
    if (message.type === 'metrics') {
      registry.metrics().then(
        (text) => send({ type: 'metrics', id: message.id, text }),
        () => send({ type: 'metrics', id: message.id, text: '' }),
      );
      return;
    }
    if (stopping) return;
    stopping = true;
    // Active jobs finish or are released, queues and connections close (the roles' shutdown hooks).
    app.close().then(
      () => {
        send({ type: 'stopped' });
        port.close();
      },
      (error: unknown) => {
        send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        port.close();
      },
    );
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  parentPort?.postMessage({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies FromRoleThread);
  parentPort?.close();
});
