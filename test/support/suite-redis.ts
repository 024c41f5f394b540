import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { LocalRedisServer } from '@aftersales/scheduling';

/** A suite's own redis-server (nothing kept on disk) in a temporary folder, and a client to it. */
export interface SuiteRedis {
  /** The temporary folder, for the suite's own files too; removed after the suite. */
  readonly dir: string;
  readonly url: string;
  readonly client: Redis;
}

/**
 * Starts a redis-server of the suite's own before its tests and stops it,
 * with its folder, after them (tests never touch a Redis they did not
 * start). Read the fields inside hooks and tests, once it has started.
 */
export function suiteRedis(prefix: string): SuiteRedis {
  let server: LocalRedisServer;
  const suite = {} as { dir: string; url: string; client: Redis };
  beforeAll(async () => {
    suite.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
    server = await LocalRedisServer.start({ dir: join(suite.dir, 'redis'), persistent: false });
    suite.url = server.url;
    suite.client = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    suite.client?.disconnect();
    await server?.stop();
    if (suite.dir) rmSync(suite.dir, { recursive: true, force: true });
  });
  return suite;
}
