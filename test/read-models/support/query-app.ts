import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { EVENT_STORE } from '@aftersales/application';
import { loadConfig } from '@aftersales/config';
import type { EventStore } from '@aftersales/event-store';
import { LocalRedisServer } from '@aftersales/scheduling';
import { ApiModule } from '../../../apps/api/src/api.module';
import { createFastifyAdapter } from '../../../apps/api/src/http/http-edge';
import { JsonLogger } from '@aftersales/application';
import { ProjectorModule } from '../../../apps/projector/src/projector.module';

type Method = 'get' | 'post' | 'put';

export interface QueryApp {
  app: NestFastifyApplication;
  store: EventStore;
  call(method: Method, path: string, bearer?: string, body?: unknown): Promise<request.Response>;
  close(): Promise<void>;
}

/**
 * The API with the projector running in the same process (ApiModule's
 * `roles`, as the one-process start runs them), on a fresh SQLite file and
 * a private redis-server, driven over real HTTP.
 */
export async function startQueryApp(env: Record<string, string> = {}): Promise<QueryApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aftersales-queries-'));
  const redis = await LocalRedisServer.start({ dir: join(dataDir, 'redis'), persistent: false });
  const config = loadConfig({ LOG_LEVEL: 'silent', SQLITE_PATH: join(dataDir, 'aftersales.db'), REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '1000000', ...env });
  let app: NestFastifyApplication | undefined;
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [ApiModule.register(config, [ProjectorModule.register(config, { lockTiming: { retryMs: 50 }, retryDelayMs: 100 })])],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { bodyParser: false, bufferLogs: true });
    app.useLogger(app.get(JsonLogger));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } catch (error) {
    await app?.close();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const started = app;
  return {
    app: started,
    store: started.get<EventStore>(EVENT_STORE),
    call(method, path, bearer, body) {
      let call = request(started.getHttpServer())[method](path);
      if (bearer) call = call.set('Authorization', `Bearer ${bearer}`);
      return body === undefined ? call : call.send(body as object);
    },
    async close() {
      await started.close();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
