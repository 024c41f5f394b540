import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRedisServer } from '@aftersales/scheduling';
import { SharedWindows, type WindowHit } from '../../apps/api/src/rate-limit/shared-windows';

jest.setTimeout(30_000);

// Leased points (SharedWindows' class comment): a process takes a share of a
// key's window from Redis at once and hands it out itself. Two clients stand
// for two API processes; the count in Redis is read back to see how many
// points were taken, and so how many round trips were made.

describe('SharedWindows with leased points', () => {
  let dir: string;
  let redis: LocalRedisServer;
  const clients: Redis[] = [];

  function client(): Redis {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    connection.on('error', () => undefined);
    clients.push(connection);
    return connection;
  }

  const counted = async (prefix: string, key: string): Promise<number> => Number(await clients[0].get(`${prefix}:${key}`));

  async function hits(limiter: SharedWindows, key: string, count: number): Promise<WindowHit[]> {
    const answers: WindowHit[] = [];
    for (let i = 0; i < count; i += 1) answers.push(await limiter.hit(key));
    return answers;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-leased-windows-'));
    redis = await LocalRedisServer.start({ dir: join(dir, 'redis'), persistent: false });
  });

  afterAll(async () => {
    for (const connection of clients) connection.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes 1 % of the limit from Redis at a time by default and counts the rest down in the process', async () => {
    const limiter = new SharedWindows(client(), { points: 1000, windowSeconds: 60, keyPrefix: 'default-lease' });
    const answers = await hits(limiter, 'sub:u1', 25);
    expect(answers.every((hit) => hit.allowed)).toBe(true);
    expect(answers.map((hit) => hit.remaining)).toEqual(Array.from({ length: 25 }, (_, i) => 999 - i));
    // Three leases of 10, not 25 round trips of 1.
    expect(await counted('default-lease', 'sub:u1')).toBe(30);
  });

  it('lets requests that arrive while a lease is being taken share it', async () => {
    const limiter = new SharedWindows(client(), { points: 1000, windowSeconds: 60, keyPrefix: 'burst-lease' });
    const answers = await Promise.all(Array.from({ length: 50 }, () => limiter.hit('sub:u1')));
    expect(answers.every((hit) => hit.allowed)).toBe(true);
    expect(await counted('burst-lease', 'sub:u1')).toBe(50);
  });

  it('never lets more than the limit through across two processes, and refuses at most what the two hold unused early', async () => {
    const options = { points: 100, windowSeconds: 60, keyPrefix: 'two-leases', leasePoints: 10 };
    const [a, b] = [new SharedWindows(client(), options), new SharedWindows(client(), options)];
    let allowed = 0;
    // Uneven: a gets two requests for each of b's, so b keeps points unused when the window is spent.
    for (let i = 0; i < 150; i += 1) if ((await (i % 3 === 2 ? b : a).hit('sub:u1')).allowed) allowed += 1;
    expect(allowed).toBeLessThanOrEqual(100);
    expect(allowed).toBeGreaterThanOrEqual(100 - 2 * 9);
    // Both refuse from now on, and a refusal kept until the window ends costs Redis nothing.
    const before = await counted('two-leases', 'sub:u1');
    for (const limiter of [a, b]) {
      const refusedAgain = await hits(limiter, 'sub:u1', 3);
      expect(refusedAgain.every((hit) => !hit.allowed && hit.remaining === 0)).toBe(true);
    }
    expect(await counted('two-leases', 'sub:u1')).toBe(before);
  });

  it('gives a short last lease only what the window has left, and that request is let through', async () => {
    const options = { points: 25, windowSeconds: 60, keyPrefix: 'short-lease', leasePoints: 10 };
    const limiter = new SharedWindows(client(), options);
    const answers = await hits(limiter, 'sub:u1', 26);
    expect(answers.map((hit) => hit.allowed)).toEqual([...Array(25).fill(true), false]);
    expect(answers.map((hit) => hit.remaining)).toEqual([...Array.from({ length: 25 }, (_, i) => 24 - i), 0]);
  });

  it('drops a lease when its window ends: the next window starts from the whole limit', async () => {
    const limiter = new SharedWindows(client(), { points: 20, windowSeconds: 1, keyPrefix: 'ending-lease', leasePoints: 5 });
    const first = await hits(limiter, 'sub:u1', 21);
    expect(first.at(-1)).toMatchObject({ allowed: false });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await limiter.hit('sub:u1')).toMatchObject({ allowed: true, remaining: 19 });
  });
});
