import { Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRedisServer } from '@aftersales/scheduling';
import { SharedWindows, type WindowHit } from '../../apps/api/src/rate-limit/shared-windows';

jest.setTimeout(30_000);

// The API's rate-limit counters on a redis-server of the test's own: two
// clients stand for two API processes. While Redis is away each process
// counts in its own memory, and answers without waiting on Redis.

const LIMIT = 5;

describe('SharedWindows', () => {
  let dir: string;
  let redis: LocalRedisServer;
  const clients: Redis[] = [];

  /** A client as the service makes one (commands queue while it reconnects). */
  function client(): Redis {
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    // Connection errors while the server is stopped are expected here.
    connection.on('error', () => undefined);
    clients.push(connection);
    return connection;
  }

  const windows = (connection: Redis, keyPrefix: string) => new SharedWindows(connection, { points: LIMIT, windowSeconds: 60, keyPrefix, redisTimeoutMs: 200 });

  async function hits(limiter: SharedWindows, key: string, count: number): Promise<WindowHit[]> {
    const answers: WindowHit[] = [];
    for (let i = 0; i < count; i += 1) answers.push(await limiter.hit(key));
    return answers;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-shared-windows-'));
    redis = await LocalRedisServer.start({ dir: join(dir, 'redis'), persistent: false });
  });

  afterAll(async () => {
    for (const connection of clients) connection.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a key its limit once across two processes, counting down what is left in either', async () => {
    const a = windows(client(), 'shared');
    const b = windows(client(), 'shared');
    const answers = [...(await hits(a, 'sub:u1', 2)), ...(await hits(b, 'sub:u1', 2)), await a.hit('sub:u1')];
    expect(answers.map((hit) => [hit.allowed, hit.remaining])).toEqual([
      [true, 4],
      [true, 3],
      [true, 2],
      [true, 1],
      [true, 0],
    ]);
    for (const limiter of [a, b]) {
      const refused = await limiter.hit('sub:u1');
      expect(refused).toMatchObject({ allowed: false, remaining: 0 });
      expect(refused.secondsLeft).toBeGreaterThanOrEqual(1);
      expect(refused.secondsLeft).toBeLessThanOrEqual(60);
    }
    expect(await b.hit('sub:u2')).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('counts a burst of concurrent hits exactly', async () => {
    const [a, b] = [windows(client(), 'burst'), windows(client(), 'burst')];
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).hit('ip:203.0.113.7')));
    expect(answers.filter((hit) => hit.allowed)).toHaveLength(LIMIT);
  });

  it('waits for a process just started to connect, and counts in Redis from its first request', async () => {
    const connecting = client();
    const limiter = windows(connecting, 'fresh');
    expect(connecting.status).not.toBe('ready');
    await hits(limiter, 'sub:u1', 2);
    const other = windows(client(), 'fresh');
    expect(await other.hit('sub:u1')).toMatchObject({ allowed: true, remaining: LIMIT - 3 });
  });

  it('counts in memory, per process and without waiting on Redis, while Redis does not answer, and in Redis again after', async () => {
    const connection = client();
    const limiter = windows(connection, 'outage');
    await connection.ping();
    expect(await limiter.hit('sub:u1')).toMatchObject({ allowed: true, remaining: LIMIT - 1 });

    // A server that accepts commands but answers none for a while: each check gives up after the timeout.
    const admin = client();
    await admin.call('CLIENT', 'PAUSE', '4000', 'WRITE');
    const started = Date.now();
    const during = await hits(limiter, 'sub:u1', LIMIT + 1);
    // Each check gave up after its 200 ms.
    expect(Date.now() - started).toBeLessThan((LIMIT + 1) * 200 + 1000);
    // The memory count starts from nothing: this process alone allows the limit.
    expect(during.map((hit) => hit.allowed)).toEqual([true, true, true, true, true, false]);

    await admin.call('CLIENT', 'UNPAUSE');
    // Back to Redis: its count went on from the one hit before (plus any checks that reached it late).
    const after = await limiter.hit('sub:u1');
    expect(after.remaining).toBeLessThan(LIMIT - 1);
  });

  it('counts in memory at once while the server is down, and in Redis once it is back', async () => {
    const connection = client();
    const limiter = windows(connection, 'down');
    await connection.ping();
    await limiter.hit('sub:u1');

    const port = Number(new URL(redis.url).port);
    await redis.stop();
    const started = Date.now();
    const during = await hits(limiter, 'sub:u9', LIMIT + 1);
    // One wait for the client to reconnect at most, then no more waiting.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(during.map((hit) => hit.allowed)).toEqual([true, true, true, true, true, false]);

    redis = await LocalRedisServer.start({ dir: join(dir, 'redis'), port, persistent: false });
    const deadline = Date.now() + 10_000;
    while (connection.status !== 'ready' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    // The server came back empty (not persistent): Redis counts afresh, shared again with another process.
    const other = windows(client(), 'down');
    expect(await limiter.hit('sub:u9')).toMatchObject({ allowed: true, remaining: LIMIT - 1 });
    expect(await other.hit('sub:u9')).toMatchObject({ allowed: true, remaining: LIMIT - 2 });
  });
});
