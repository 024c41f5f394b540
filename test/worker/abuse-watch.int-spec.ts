import { Test } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuyerFlagsService, Clock, EVENT_STORE, JsonLogger } from '@aftersales/application';
import { loadConfig, type AppConfig } from '@aftersales/config';
import type { EventStore } from '@aftersales/event-store';
import { AbuseQuery } from '@aftersales/read-models';
import { LocalRedisServer } from '@aftersales/scheduling';
import { ApiModule } from '../../apps/api/src/api.module';
import { createFastifyAdapter } from '../../apps/api/src/http/http-edge';
import { ProjectorModule } from '../../apps/projector/src/projector.module';
import { AbuseWatch } from '../../apps/worker/src/abuse/abuse-watch';
import { WorkerModule } from '../../apps/worker/src/worker.module';
import { ApiClient } from '../e2e/support/http';
import { uniqueId } from '../e2e/support/orders';
import { Platform } from '../e2e/support/platform';
import { eventually } from '../support/eventually';
import { freePort } from '../support/service-process';

jest.setTimeout(120_000);

// Issue: the abuse rule flags a buyer by itself, through the same BuyerFlagged
// an admin records, and an admin's clear sticks. Every role of `npm start` in
// this process (API, worker, projector) on its own SQLite file, redis-server
// and port, so refunds really go to the sandbox payment centre and settle by
// its signed callback; the watch's passes are called here rather than waited for.

describe('abuse watch (the worker flags what the abuse report names)', () => {
  let dataDir: string;
  let redis: LocalRedisServer;
  let app: NestFastifyApplication;
  let store: EventStore;
  let watch: AbuseWatch;
  let p: Platform;
  let config: AppConfig;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'aftersales-abuse-watch-'));
    redis = await LocalRedisServer.start({ dir: join(dataDir, 'redis'), persistent: false });
    const port = await freePort();
    config = loadConfig({
      LOG_LEVEL: 'silent',
      SQLITE_PATH: join(dataDir, 'aftersales.db'),
      REDIS_URL: redis.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      SANDBOX_PAYMENT_SETTLE_MS: '20',
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    const moduleRef = await Test.createTestingModule({
      imports: [ApiModule.register(config, [WorkerModule.register(config), ProjectorModule.register(config, { lockTiming: { retryMs: 50 }, retryDelayMs: 100 })])],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { bodyParser: false, bufferLogs: true });
    app.useLogger(app.get(JsonLogger));
    await app.listen(port, '127.0.0.1');
    store = app.get<EventStore>(EVENT_STORE);
    watch = app.get(AbuseWatch);
    p = new Platform(new ApiClient(`http://127.0.0.1:${port}`));
  });

  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A shipped order of a trusted buyer (auto-review and express refunds apply), one line of 3,000: small enough for auto-review. */
  async function refundOnly(buyerId: string): Promise<{ caseId: string; status: string }> {
    const { orderId } = await p.order({ buyerId, merchantId: 'm-abuse', businessLine: 'apparel', buyerTrustScore: 900, lines: [{ unitPrice: 3_000 }] }, 'shipped');
    return p.mustOpenCase(await p.buyer(buyerId), { orderId, kind: 'refund_only', reason: 'not_received', lines: [{ lineId: 'L1', quantity: 1 }] });
  }

  const completed = (caseId: string) =>
    eventually(`${caseId} completed`, async () => ((await p.eventTypes(caseId)).includes('CaseCompleted') ? true : undefined));

  /** The abuse report's item for the buyer once it shows `cases` cases. */
  const reported = (buyerId: string, cases: number) =>
    eventually(`${buyerId} reported with ${cases} cases`, async () => {
      const report = await p.api.get('/v1/analytics/abuse?limit=100', { token: await p.admin() });
      const item = report.body.items?.find((i: { subject: string; id: string }) => i.subject === 'buyer' && i.id === buyerId);
      return item?.cases === cases ? item : undefined;
    });

  const flag = async (buyerId: string) => (await p.api.get(`/v1/buyers/${buyerId}/flag`, { token: await p.admin() })).body;
  const buyerEvents = async (buyerId: string) => (await store.readStream(`buyer-${buyerId}`)).map((e) => ({ type: e.type, actor: e.metadata.actor as { role: string; id: string }, reason: (e.data as { reason?: string }).reason }));

  it('flags a buyer refunded refund_only without returns as the system, once; an admin\'s clear sticks until the buyer requests again', async () => {
    const abuser = uniqueId('u-abuse');
    const fine = uniqueId('u-fine');
    for (let i = 0; i < 3; i += 1) {
      const opened = await refundOnly(abuser);
      expect(opened.status).toBe('refunding');
      await completed(opened.caseId);
    }
    // One such case is too few to judge (minCases): never flagged.
    await completed((await refundOnly(fine)).caseId);
    await reported(abuser, 3);

    // Two worker processes passing at once: one BuyerFlagged between them.
    const other = new AbuseWatch(app.get(AbuseQuery), new BuyerFlagsService(store), app.get(Clock), config);
    const passes = await Promise.all([watch.runOnce(), other.runOnce()]);
    expect(passes.flatMap((pass) => pass.flagged)).toEqual([abuser]);
    const flagged = await flag(abuser);
    expect(flagged).toMatchObject({ buyerId: abuser, flagged: true });
    expect(flagged.reason).toMatch(/^abuse rule: .*3 of 3 cases refunded as refund_only with nothing returned \(rule: 60% from 3 cases\)/);
    expect(await buyerEvents(abuser)).toEqual([{ type: 'BuyerFlagged', actor: { role: 'system', id: 'abuse-watch' }, reason: flagged.reason }]);
    expect((await flag(fine)).flagged).toBe(false);

    // Passes that come again record nothing more: the decision sees the flag.
    await Promise.all([watch.runOnce(), other.runOnce()]);
    expect(await buyerEvents(abuser)).toHaveLength(1);

    // The command path reads the flag: the next small refund_only waits for the merchant instead of auto-review.
    const held = await refundOnly(abuser);
    expect(held.status).toBe('pending_merchant');

    const cleared = await p.api.request('DELETE', `/v1/buyers/${abuser}/flag`, { token: await p.admin(), body: { reason: 'reviewed: the parcels were lost by the carrier' } });
    expect(cleared.status).toBe(200);
    // The report still names the buyer (3 of 4 cases), yet the clear covers every case requested before it.
    await reported(abuser, 4);
    await watch.runOnce();
    expect((await flag(abuser)).flagged).toBe(false);
    expect((await buyerEvents(abuser)).map((e) => e.type)).toEqual(['BuyerFlagged', 'BuyerUnflagged']);

    // A case requested after the clear: figures worse than when cleared, so the rule flags again and says so.
    const again = await refundOnly(abuser);
    expect(again.status).toBe('refunding');
    await completed(again.caseId);
    await reported(abuser, 5);
    await watch.runOnce();
    const reflagged = await flag(abuser);
    expect(reflagged.flagged).toBe(true);
    expect(reflagged.reason).toMatch(/^abuse rule: .*4 of 5 cases refunded as refund_only with nothing returned.*; 1 case since the flag was cleared on /);
    expect((await buyerEvents(abuser)).map((e) => [e.type, e.actor.role])).toEqual([
      ['BuyerFlagged', 'system'],
      ['BuyerUnflagged', 'admin'],
      ['BuyerFlagged', 'system'],
    ]);

    // /metrics shows this process's watch: it flagged the buyer again (the first flag may have been the other watch's), and passed each time it was asked.
    const metrics = (await p.api.get('/metrics')).text;
    const series = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(series('abuse_watch_flagged_buyers')).toBeGreaterThanOrEqual(1);
    expect(series('abuse_watch_passes')).toBeGreaterThanOrEqual(4);
    // Not even the pass at start, when the projector may not have made the report's tables in a new file yet: the report is empty then.
    expect(series('abuse_watch_failed_passes')).toBe(0);
    expect(series('abuse_watch_last_pass_seconds')).toBeGreaterThan(0);
    expect(series('abuse_watch_last_pass_seconds')).toBeLessThan(10);
  });

  it('passes by itself every WORKER_ABUSE_WATCH_INTERVAL_MS', async () => {
    const often = new AbuseWatch(app.get(AbuseQuery), new BuyerFlagsService(store), app.get(Clock), { ...config, worker: { ...config.worker, abuseWatchIntervalMs: 100 } });
    const started = Date.now();
    often.onApplicationBootstrap();
    try {
      await eventually('five passes', async () => (often.totals.passes >= 5 ? true : undefined), 10_000, 20);
    } finally {
      await often.onModuleDestroy();
    }
    // The first pass at start, then one every 100 ms (a minute apart at the default).
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(often.totals.failedPasses).toBe(0);
  });
});
