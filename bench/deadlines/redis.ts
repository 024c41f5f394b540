/*
 * The benchmark's own redis-server (no persistence, so FLUSHALL and memory
 * figures are Redis's alone) and the few things read from it.
 */
import { Redis } from 'ioredis';
import { LocalRedisServer } from '@aftersales/scheduling';

export interface BenchRedis {
  url: string;
  client: Redis;
  stop(): Promise<void>;
}

export async function startRedis(dir: string): Promise<BenchRedis> {
  const server = await LocalRedisServer.start({ dir, persistent: false });
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  return {
    url: server.url,
    client,
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}

function infoField(info: string, field: string): number {
  const match = new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info);
  if (!match) throw new Error(`INFO has no ${field}`);
  return Number(match[1]);
}

/** `used_memory` of INFO memory, in bytes. */
export async function usedMemory(client: Redis): Promise<number> {
  return infoField(await client.info('memory'), 'used_memory');
}

/** Seconds of CPU the redis-server has used (user + system). */
export async function redisCpuSeconds(client: Redis): Promise<number> {
  const info = await client.info('cpu');
  return infoField(info, 'used_cpu_user') + infoField(info, 'used_cpu_sys');
}

/** Jobs of a BullMQ queue waiting for their time (its `delayed` sorted set). */
export async function delayedJobs(client: Redis, queue: string): Promise<number> {
  return client.zcard(`bull:${queue}:delayed`);
}

/** What one job costs in Redis by MEMORY USAGE: its hash, and its share of the delayed set. */
export async function bytesOfOneJob(client: Redis, queue: string): Promise<{ hash: number; delayedSetPerJob: number } | undefined> {
  const [id] = await client.zrange(`bull:${queue}:delayed`, '0', '0');
  if (!id) return undefined;
  const hash = (await client.call('MEMORY', 'USAGE', `bull:${queue}:${id}`, 'SAMPLES', '0')) as number;
  const set = (await client.call('MEMORY', 'USAGE', `bull:${queue}:delayed`, 'SAMPLES', '0')) as number;
  const members = await client.zcard(`bull:${queue}:delayed`);
  return { hash, delayedSetPerJob: set / members };
}
