import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { LocalRedisServer } from '@aftersales/scheduling';
import { Platform } from '../e2e/support/platform';
import { uniqueId } from '../e2e/support/orders';
import { startService, stopService, type StartedService } from '../e2e/support/service';

jest.setTimeout(180_000);

// Issue 10, "Deadlines survive Redis": the pending deadlines live in the
// worker's durable table, and the reconciler re-creates whatever Redis lost.
// Here Redis loses everything (FLUSHALL) while 50 merchant-response deadlines
// are pending, with the service running and with the service killed -9 and
// started again: every deadline still fires, exactly once, within its due
// time plus one reconciliation period (and slack for a loaded machine).

const CASES = 50;
const RECONCILE_MS = 1000;
/** For a loaded machine: 50 commands and their events on top of the reconciliation period. */
const SLACK_MS = 8000;
const MERCHANT = 'm-redis-loss';
const ENV = {
  // Long enough to open all 50 cases and flush before the first is due.
  POLICY_MERCHANT_RESPONSE: 'PT8S',
  WORKER_RECONCILE_INTERVAL_MS: String(RECONCILE_MS),
  // Only the deadlines are under test: the refunds that follow settle quickly and stay out of the way.
  SANDBOX_PAYMENT_SETTLE_MS: '100',
};

interface OpenedCase {
  caseId: string;
  dueAt: number;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function inBatches<T, R>(items: readonly T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return results;
}

describe('deadlines survive the loss of every Redis key', () => {
  let redisDir: string;
  let redisServer: LocalRedisServer;
  let redis: Redis;
  const services: StartedService[] = [];

  beforeAll(async () => {
    redisDir = mkdtempSync(join(tmpdir(), 'aftersales-redis-loss-'));
    redisServer = await LocalRedisServer.start({ dir: redisDir, persistent: false });
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  });

  afterEach(async () => {
    for (const started of services.splice(0)) await stopService(started);
    await redis.flushall();
  });

  afterAll(async () => {
    redis?.disconnect();
    await redisServer?.stop();
    rmSync(redisDir, { recursive: true, force: true });
  });

  const start = async (dataDir?: string): Promise<Platform> => {
    const started = await startService({ ...ENV, REDIS_URL: redisServer.url }, dataDir);
    services.push(started);
    return new Platform(started.api);
  };

  /** Shipped orders, registered first so that opening the cases (and with it the deadlines' clock) takes as little time as possible. */
  async function openCases(p: Platform): Promise<OpenedCase[]> {
    const buyerId = uniqueId('b');
    const buyer = await p.buyer(buyerId);
    const orders = await inBatches(Array.from({ length: CASES }), 10, () =>
      // Shipped, never arrived, above the small-amount rule: no auto-review, the merchant must answer.
      p.order({ buyerId, merchantId: MERCHANT, businessLine: 'home', lines: [{ unitPrice: 20_000 }] }, 'shipped'),
    );
    const cases = await inBatches(orders, 25, async ({ orderId }) => {
      const kase = await p.mustOpenCase(buyer, { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }] });
      expect(kase.status).toBe('pending_merchant');
      return kase.caseId as string;
    });
    return Promise.all(
      cases.map(async (caseId) => {
        const set = (await p.events(caseId)).find((e) => e.type === 'DeadlineSet' && e.data.name === 'merchantResponse');
        return { caseId, dueAt: Date.parse(set.data.dueAt) };
      }),
    );
  }

  /** Waits until the reactor has put every deadline into BullMQ, so that the flush takes them away. */
  async function allDelayedInRedis(): Promise<void> {
    await eventually('all deadlines delayed in BullMQ', async () => ((await redis.zcard('bull:deadlines:delayed')) >= CASES ? true : undefined), 20_000);
  }

  async function flushBeforeDue(cases: OpenedCase[]): Promise<number> {
    const firstDue = Math.min(...cases.map((c) => c.dueAt));
    await redis.flushall();
    const flushedAt = Date.now();
    expect(await redis.dbsize()).toBe(0);
    // Otherwise some deadlines would have fired before the loss, and the test would prove less than it claims.
    if (flushedAt >= firstDue) throw new Error(`FLUSHALL came ${flushedAt - firstDue} ms after the first deadline was due; raise POLICY_MERCHANT_RESPONSE`);
    return flushedAt;
  }

  /** Each case agreed exactly once, by the clock, no earlier than due and no later than `latestAt(case)`. */
  async function expectEachFiredOnce(p: Platform, cases: OpenedCase[], latestAt: (c: OpenedCase) => number): Promise<void> {
    const lastDue = Math.max(...cases.map((c) => latestAt(c)));
    for (const kase of cases) {
      const agreed = await eventually(
        `MerchantAgreed on ${kase.caseId}`,
        async () => {
          const found = (await p.events(kase.caseId)).filter((e) => e.type === 'MerchantAgreed');
          return found.length > 0 ? found : undefined;
        },
        Math.max(5000, lastDue - Date.now() + 10_000),
      );
      expect(agreed).toHaveLength(1);
      expect(agreed[0].data).toMatchObject({ auto: true, trigger: 'merchantResponse' });
      expect(agreed[0].metadata.actor).toMatchObject({ role: 'system' });
      const occurredAt = Date.parse(agreed[0].metadata.occurredAt);
      expect(occurredAt).toBeGreaterThanOrEqual(kase.dueAt);
      expect(occurredAt).toBeLessThanOrEqual(latestAt(kase));
    }
    // Two more reconciliation passes re-create nothing that fires again.
    await new Promise((resolve) => setTimeout(resolve, 3 * RECONCILE_MS));
    for (const kase of cases) {
      const types = await p.eventTypes(kase.caseId);
      expect(types.filter((t) => t === 'MerchantAgreed')).toHaveLength(1);
    }
  }

  it('FLUSHALL with 50 deadlines pending: each still fires exactly once, within its due time and one reconciliation period', async () => {
    const p = await start();
    const cases = await openCases(p);
    await allDelayedInRedis();
    await flushBeforeDue(cases);

    // The reconciler puts them back within one pass.
    await eventually('deadlines re-created in BullMQ', async () => ((await redis.zcard('bull:deadlines:delayed')) > 0 ? true : undefined), RECONCILE_MS + SLACK_MS);
    await expectEachFiredOnce(p, cases, (c) => c.dueAt + RECONCILE_MS + SLACK_MS);
  });

  it('killed -9 before the deadlines are due, Redis flushed, started again on the same data: each fires exactly once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aftersales-redis-loss-data-'));
    const first = await start(dataDir);
    const cases = await openCases(first);
    await allDelayedInRedis();

    const killed = services.pop()!;
    await killed.service.stop('SIGKILL');
    await flushBeforeDue(cases);

    const second = await start(dataDir);
    const restartedAt = Date.now();
    // A deadline that fell due while no service ran fires at once after the restart (the reconciler's first pass).
    await expectEachFiredOnce(second, cases, (c) => Math.max(c.dueAt, restartedAt) + RECONCILE_MS + SLACK_MS);
  });
});
