import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort, spawnService, waitForExit, waitForHealthy, type RunningService } from '../support/service-process';

jest.setTimeout(90_000);

/** Pids of the redis-server processes the service started (its children). */
/** redis-server processes below `pid` (the service runs its redis-server under a small watchdog, so a grandchild). */
function redisChildrenOf(pid: number | undefined): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3)
    .map(([childPid, ppid, comm]) => ({ pid: Number(childPid), ppid: Number(ppid), comm }));
  if (pid === 1) return rows.filter((row) => row.ppid === 1 && row.comm === 'redis-server').map((row) => row.pid);
  const below = new Set<number>();
  let parents = new Set([pid]);
  while (parents.size > 0) {
    const children = rows.filter((row) => parents.has(row.ppid));
    for (const child of children) below.add(child.pid);
    parents = new Set(children.map((row) => row.pid));
  }
  return rows.filter((row) => below.has(row.pid) && row.comm === 'redis-server').map((row) => row.pid);
}

/** redis-server processes whose parent is gone (adopted by init): what a failed start must not leave. */
function orphanedRedisServers(): number[] {
  return redisChildrenOf(1);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start on the embedded default', () => {
  let service: RunningService | undefined;

  afterEach(() => service?.cleanup());

  it('starts its own Redis and SQLite file, answers /health and the API document, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    service = spawnService({ PORT: String(port) });

    const health = await waitForHealthy(service);
    const body = (await health.json()) as { status: string; info: Record<string, { status: string }> };
    expect(body.status).toBe('ok');
    expect(body.info.eventStore.status).toBe('up');
    expect(body.info.redis.status).toBe('up');
    expect(existsSync(join(service.dataDir, 'aftersales.db'))).toBe(true);
    const redisPids = redisChildrenOf(service.process.pid);
    expect(redisPids).toHaveLength(1);

    const docs = await fetch(`${service.baseUrl}/docs-json`);
    expect(docs.status).toBe(200);
    expect(((await docs.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty('/health');

    const { code, elapsedMs } = await service.stop('SIGTERM');
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(10_000);
    expect(isAlive(redisPids[0])).toBe(false);
  });

  it('starts again at once on the same files and port after SIGINT', async () => {
    const port = await freePort();
    service = spawnService({ PORT: String(port) });
    await waitForHealthy(service);
    expect((await service.stop('SIGINT')).code).toBe(0);

    const again = spawnService({ PORT: String(port) }, service.dataDir);
    try {
      await waitForHealthy(again);
      expect((await again.stop('SIGTERM')).code).toBe(0);
    } finally {
      if (again.process.exitCode === null) again.process.kill('SIGKILL');
    }
  });

  it('stops the redis-server it started when the start fails later (port taken)', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    const orphansBefore = orphanedRedisServers();
    try {
      service = spawnService({ PORT: String(port) });
      expect(await waitForExit(service)).toBe(1);
      expect(service.output()).toMatch(/EADDRINUSE/);
      expect(orphanedRedisServers()).toEqual(orphansBefore);
    } finally {
      blocker.close();
    }
  });

  it('refuses to start on a bad value, naming the variable, and opens nothing', async () => {
    const port = await freePort();
    service = spawnService({ PORT: String(port), EVENT_STORE: 'mongodb', POLICY_MERCHANT_RESPONSE: '2 days' });
    expect(await waitForExit(service)).toBe(1);
    expect(service.output()).toContain('EVENT_STORE: must be one of sqlite, eventstoredb (got "mongodb")');
    expect(service.output()).toContain('POLICY_MERCHANT_RESPONSE');
    expect(existsSync(join(service.dataDir, 'aftersales.db'))).toBe(false);
    expect(existsSync(join(service.dataDir, 'redis'))).toBe(false);
  });
});
