import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { EVENT_STORE, InfrastructureModule } from '@aftersales/application';
import { loadConfig } from '@aftersales/config';
import { caseStream } from '@aftersales/domain';
import type { EventStore } from '@aftersales/event-store';
import { LocalRedisServer, WEBHOOK_EVENT_TYPES, webhookStream, WebhookStore, type WebhookRetryPolicy } from '@aftersales/scheduling';
import { WebhookReconciler } from '../../apps/worker/src/webhooks/webhook-reconciler';
import { WEBHOOK_RETRY_POLICY } from '../../apps/worker/src/webhooks/webhook.tokens';
import { WebhooksWorkerModule } from '../../apps/worker/src/webhooks/webhooks-worker.module';
import { eventually, signedWith, WebhookReceiver, type Received } from './support/receiver';

jest.setTimeout(60_000);

// The worker's webhook delivery on a real SQLite event store, a redis-server
// of its own and a local HTTP receiver: what a subscriber gets, in which
// order, signed how, and what happens when it fails.

const SECRET = 'whsec-integration-0123456789';
const QUICK: WebhookRetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };

describe('webhook delivery (worker side)', () => {
  let dir: string;
  let redis: LocalRedisServer;
  let app: INestApplicationContext | undefined;
  /** More worker processes beside `app`, sharing its SQLite file and Redis. */
  let others: INestApplicationContext[] = [];
  let receiver: WebhookReceiver;
  let store: EventStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'webhooks-'));
    redis = await LocalRedisServer.start({ dir, persistent: false });
    receiver = await WebhookReceiver.start();
  });

  afterEach(async () => {
    for (const other of others) await other.close();
    others = [];
    await app?.close();
    app = undefined;
    await receiver.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startWorker(policy: WebhookRetryPolicy = QUICK): Promise<INestApplicationContext> {
    const config = loadConfig({ SQLITE_PATH: join(dir, 'aftersales.db'), REDIS_URL: redis.url, WORKER_RECONCILE_INTERVAL_MS: '300' });
    const moduleRef = await Test.createTestingModule({
      imports: [
        InfrastructureModule.forRoot(config),
        BullModule.forRoot({ connection: { host: '127.0.0.1', port: Number(new URL(redis.url).port), maxRetriesPerRequest: null } }),
        WebhooksWorkerModule,
      ],
    })
      .overrideProvider(WEBHOOK_RETRY_POLICY)
      .useValue(policy)
      .compile();
    moduleRef.useLogger(false);
    const context = await moduleRef.init();
    if (!app) {
      app = context;
      store = app.get<EventStore>(EVENT_STORE);
    } else {
      others.push(context);
    }
    return context;
  }

  const webhooks = () => app!.get(WebhookStore);

  async function subscribe(events: string[]): Promise<string> {
    const webhookId = randomUUID();
    await store.append(
      webhookStream(webhookId),
      [{ id: randomUUID(), type: WEBHOOK_EVENT_TYPES.subscribed, data: { webhookId, url: receiver.url, events, secret: SECRET }, metadata: {} }],
      { expectedRevision: 'no_stream' },
    );
    return webhookId;
  }

  async function record(caseId: string, ...types: string[]): Promise<string[]> {
    const events = types.map((type, i) => ({ id: randomUUID(), type, data: { caseId, n: i }, metadata: { occurredAt: new Date().toISOString() } }));
    await store.append(caseStream(caseId), events, { expectedRevision: 'any' });
    return events.map((e) => e.id);
  }

  async function append(webhookId: string, type: string, data: object): Promise<void> {
    await store.append(webhookStream(webhookId), [{ id: randomUUID(), type, data: { webhookId, ...data }, metadata: {} }], { expectedRevision: 'stream_exists' });
  }

  const ofCase = (caseId: string, webhookId: string): Received[] => receiver.of(webhookId).filter((r) => r.body.caseId === caseId);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('sends the matching events of each case in log order, signed like the callbacks, and nothing else', async () => {
    await startWorker();
    const before = await record('c0', 'ReturnRequested');
    const webhookId = await subscribe(['ReturnRequested', 'CaseNoteAdded', 'CaseClosed']);
    const c1 = [...(await record('c1', 'ReturnRequested', 'DeadlineSet')), ...(await record('c2', 'ReturnRequested')), ...(await record('c1', 'CaseNoteAdded', 'CaseNoteAdded', 'CaseClosed'))];

    await eventually('five deliveries', () => (receiver.of(webhookId).length >= 5 ? true : undefined));
    await pause(300);
    const got = receiver.of(webhookId);
    expect(got).toHaveLength(5);
    expect(got.map((r) => r.body.eventId)).not.toContain(before[0]);
    const first = ofCase('c1', webhookId);
    expect(first.map((r) => r.body.type)).toEqual(['ReturnRequested', 'CaseNoteAdded', 'CaseNoteAdded', 'CaseClosed']);
    expect(first.map((r) => r.body.eventId)).toEqual([c1[0], c1[3], c1[4], c1[5]]);
    const positions = first.map((r) => r.body.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    for (const r of got) {
      expect(signedWith(SECRET, r)).toBe(true);
      expect(signedWith('another-secret-of-sixteen', r)).toBe(false);
      expect(r.headers['x-webhook-id']).toBe(webhookId);
      expect(r.headers['x-event-id']).toBe(r.body.eventId);
      expect(r.headers['idempotency-key']).toBe(r.body.eventId);
      expect(r.body).toEqual({ eventId: expect.any(String), type: expect.any(String), caseId: expect.any(String), position: expect.any(Number), occurredAt: expect.any(String), data: expect.any(Object) });
      expect(r.raw).not.toContain(SECRET);
    }
    expect(ofCase('c2', webhookId).map((r) => r.body.type)).toEqual(['ReturnRequested']);
    expect(webhooks().counts()).toEqual({ pending: 0, delivered: 5, dead: 0 });
  });

  it('retries a failing receiver with back-off and still keeps the order of a case (same X-Event-Id on each try)', async () => {
    await startWorker();
    const tries = new Map<string, number>();
    receiver.answer = (r) => {
      const n = (tries.get(r.body.eventId) ?? 0) + 1;
      tries.set(r.body.eventId, n);
      return { status: n <= 2 ? 503 : 200 };
    };
    const webhookId = await subscribe(['CaseNoteAdded']);
    const ids = await record('c1', 'CaseNoteAdded', 'CaseNoteAdded', 'CaseNoteAdded');

    await eventually('all delivered', () => (webhooks().counts().delivered === 3 ? true : undefined));
    const sent = receiver.of(webhookId).map((r) => r.body.eventId);
    // Each event three times (two 503s, then 200), and never one before the earlier one got through.
    expect(sent).toEqual([ids[0], ids[0], ids[0], ids[1], ids[1], ids[1], ids[2], ids[2], ids[2]]);
    const gaps = receiver.of(webhookId).slice(0, 3).map((r, i, all) => (i === 0 ? 0 : r.at - all[i - 1].at));
    expect(gaps[2]).toBeGreaterThanOrEqual(gaps[1] - 20);
    expect(gaps[1]).toBeGreaterThanOrEqual(90);
  });

  it('a receiver that keeps failing: a dead letter after the last attempt, the case waits behind it, a replay sends both in order', async () => {
    await startWorker();
    let healthy = false;
    receiver.answer = (r) => ({ status: healthy || r.body.caseId === 'c2' ? 200 : 503 });
    const webhookId = await subscribe(['CaseNoteAdded']);
    const [note1, note2] = await record('c1', 'CaseNoteAdded', 'CaseNoteAdded');
    await record('c2', 'CaseNoteAdded');

    const dead = await eventually('a dead letter', () => webhooks().deadLetters({ limit: 10 })[0]);
    expect(dead).toMatchObject({ webhookId, caseId: 'c1', eventId: note1, status: 'dead', attempts: QUICK.attempts, lastError: expect.stringContaining('503') });
    await pause(800);
    // Another case goes on; this case's next event is not sent past the dead letter.
    expect(ofCase('c2', webhookId)).toHaveLength(1);
    expect(ofCase('c1', webhookId).map((r) => r.body.eventId)).toEqual([note1, note1, note1]);
    expect(webhooks().delivery(`${webhookId}-${ofCase('c1', webhookId)[0].body.position + 1}`)?.status).toBe('pending');

    healthy = true;
    await append(webhookId, WEBHOOK_EVENT_TYPES.replayed, { deliveryId: dead.deliveryId });
    await eventually('both delivered', () => (ofCase('c1', webhookId).length === 5 ? true : undefined));
    expect(ofCase('c1', webhookId).map((r) => r.body.eventId)).toEqual([note1, note1, note1, note1, note2]);
    expect(webhooks().deadLetters({ limit: 10 })).toEqual([]);
  });

  it('a refusal (4xx) is a dead letter at once', async () => {
    await startWorker();
    receiver.answer = () => ({ status: 400 });
    const webhookId = await subscribe(['ReturnRequested']);
    await record('c1', 'ReturnRequested');
    const dead = await eventually('a dead letter', () => webhooks().deadLetters({ webhookId, limit: 10 })[0]);
    expect(dead).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^answered 400/) });
    expect(receiver.of(webhookId)).toHaveLength(1);
  });

  it('a retry Redis lost is re-created by the reconciler', async () => {
    await startWorker({ attempts: 5, baseDelayMs: 1500, maxDelayMs: 1500 });
    receiver.answer = (_r, index) => ({ status: index === 0 ? 503 : 200 });
    const webhookId = await subscribe(['ReturnRequested']);
    await record('c1', 'ReturnRequested');
    await eventually('the first failure', () => (receiver.of(webhookId).length === 1 ? true : undefined));
    await eventually('the retry recorded', () => (webhooks().pendingHeads(undefined, 10)[0]?.attempts === 1 ? true : undefined));
    const client = new Redis(redis.url);
    await client.flushall();
    client.disconnect();

    await eventually('delivered after reconciliation', () => (webhooks().counts().delivered === 1 ? true : undefined));
    expect(app!.get(WebhookReconciler).totals.recreated).toBeGreaterThanOrEqual(1);
    expect(receiver.of(webhookId)).toHaveLength(2);
  });

  it('a cancelled webhook gets nothing more and owes nothing', async () => {
    await startWorker({ attempts: 10, baseDelayMs: 200, maxDelayMs: 200 });
    receiver.answer = () => ({ status: 503 });
    const webhookId = await subscribe(['ReturnRequested']);
    await record('c1', 'ReturnRequested');
    await eventually('a first try', () => (receiver.of(webhookId).length >= 1 ? true : undefined));
    await append(webhookId, WEBHOOK_EVENT_TYPES.cancelled, {});
    await eventually('nothing owed', () => (webhooks().counts().pending === 0 ? true : undefined));
    const count = receiver.of(webhookId).length;
    await record('c1', 'ReturnRequested');
    await pause(800);
    expect(receiver.of(webhookId)).toHaveLength(count);
    expect(webhooks().listSubscriptions()).toEqual([]);
  });

  it('two worker processes: every event sent once, in order per case', async () => {
    await startWorker();
    await startWorker();
    const webhookId = await subscribe(['CaseNoteAdded']);
    const expected = new Map<string, string[]>();
    for (let round = 0; round < 5; round++) {
      for (const caseId of ['c1', 'c2', 'c3']) expected.set(caseId, [...(expected.get(caseId) ?? []), ...(await record(caseId, 'CaseNoteAdded', 'CaseNoteAdded'))]);
    }
    await eventually('thirty deliveries', () => (webhooks().counts().delivered === 30 ? true : undefined));
    await pause(500);
    expect(receiver.of(webhookId)).toHaveLength(30);
    for (const [caseId, ids] of expected) expect(ofCase(caseId, webhookId).map((r) => r.body.eventId)).toEqual(ids);
  });
});
