import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { LocalRedisServer } from '@aftersales/scheduling';
import { RedisPolicyCheck } from '../../apps/worker/src/redis-policy-check';

jest.setTimeout(30_000);

// The worker says loudly at start when Redis could evict queued jobs or
// lose them in a restart (BullMQ's production advice).

describe('RedisPolicyCheck', () => {
  let dir: string;
  let server: LocalRedisServer;
  let redis: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redis-policy-'));
    server = await LocalRedisServer.start({ dir, persistent: false });
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    await redis.config('SET', 'appendonly', 'no').catch(() => undefined);
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => jest.restoreAllMocks());

  it('reports an evicting policy as an error and a Redis without AOF as a warning', async () => {
    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const check = new RedisPolicyCheck(redis);
    await check.onApplicationBootstrap();
    expect(check.found).toEqual({ maxmemoryPolicy: 'allkeys-lru', appendonly: 'no' });
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringContaining('maxmemory-policy is "allkeys-lru"')]);
    expect(warnings.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringContaining('without AOF')]);
  });

  it('says nothing of a Redis set up as advised', async () => {
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    await redis.config('SET', 'appendonly', 'yes');
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await new RedisPolicyCheck(redis).onApplicationBootstrap();
    expect(errors).not.toHaveBeenCalled();
    expect(warnings).not.toHaveBeenCalled();
  });
});
