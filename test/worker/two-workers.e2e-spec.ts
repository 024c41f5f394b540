import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { LocalRedisServer, bullConnection } from '@aftersales/scheduling';
import { Platform } from '../e2e/support/platform';
import { uniqueId } from '../e2e/support/orders';
import { startService, stopService, type StartedService } from '../e2e/support/service';

jest.setTimeout(120_000);

// ARCHITECTURE.md rule 8: several worker processes on one Redis and one
// event store. Both follow the log and enqueue the same work (job ids are
// the work's keys, so the second add is a no-op), both take jobs, and every
// deadline still has its effect exactly once.

const root = resolve(__dirname, '..', '..');
const CASES = 80;

describe('two worker processes', () => {
  let dataDir: string;
  let redis: LocalRedisServer;
  let started: StartedService;
  let second: ChildProcess;
  let secondOutput = '';
  let p: Platform;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'aftersales-two-workers-'));
    redis = await LocalRedisServer.start({ dir: join(dataDir, 'redis'), persistent: false });
    const env = { REDIS_URL: redis.url, POLICY_MERCHANT_RESPONSE: 'PT8S', SANDBOX_PAYMENT_SETTLE_MS: '86400000', WORKER_RECONCILE_INTERVAL_MS: '2000' };
    started = await startService(env, dataDir);
    // The worker role alone, as a scaled-out deployment runs it, on the same SQLite file and Redis.
    second = spawn(process.execPath, ['-r', join(root, 'scripts', 'register-aliases.js'), join(root, 'dist', 'apps', 'worker', 'src', 'main.js')], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', SQLITE_PATH: join(dataDir, 'aftersales.db'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    second.stdout?.on('data', (chunk: Buffer) => (secondOutput += chunk.toString()));
    second.stderr?.on('data', (chunk: Buffer) => (secondOutput += chunk.toString()));
    p = new Platform(started.api);
  }, 120_000);

  afterAll(async () => {
    if (second && second.exitCode === null) {
      const exited = new Promise((r) => second.once('exit', r));
      second.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (second.exitCode === null) second.kill('SIGKILL');
    }
    await stopService(started);
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('fires every deadline once, with jobs taken by both processes', async () => {
    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    const caseIds: string[] = [];
    for (let i = 0; i < CASES; i += 1) {
      const { orderId } = await p.order({ buyerId, merchantId: 'm-two', businessLine: 'home', lines: [{ unitPrice: 20_000 }] }, 'shipped');
      caseIds.push((await p.mustOpenCase(buyer, { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }] })).caseId);
    }

    const deadline = Date.now() + 60_000;
    let agreed: number[] = [];
    while (Date.now() < deadline) {
      agreed = await Promise.all(caseIds.map(async (id) => (await p.eventTypes(id)).filter((t) => t === 'MerchantAgreed').length));
      if (agreed.every((n) => n >= 1)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // A moment more, for any second effect to show if there were one.
    await new Promise((r) => setTimeout(r, 2000));
    agreed = await Promise.all(caseIds.map(async (id) => (await p.eventTypes(id)).filter((t) => t === 'MerchantAgreed').length));
    expect(agreed).toEqual(caseIds.map(() => 1));

    const queue = new Queue('deadlines', { connection: bullConnection(redis.url) });
    try {
      const done = await queue.getCompleted(0, -1);
      const workers = new Set(done.map((job) => job.processedBy));
      expect({ completed: done.length >= CASES, workers: workers.size }).toEqual({ completed: true, workers: 2 });
    } finally {
      await queue.close();
    }
    expect(second.exitCode).toBeNull();
  });
});
