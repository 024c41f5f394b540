import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signatureHeader } from '@aftersales/integrations';
import { LocalRedisServer } from '@aftersales/scheduling';
import { uniqueId } from '../e2e/support/orders';
import { Platform } from '../e2e/support/platform';
import { startService, stopService, type StartedService } from '../e2e/support/service';
import { DATABASE_URL, createTestDatabase, type TestDatabase } from './support/postgres-database';

jest.setTimeout(180_000);

// Issue 11, "Nothing per host": two API processes (each as `npm start` runs
// it, on its own port) that share nothing but PostgreSQL, Redis and the
// event store. The event store here is the embedded SQLite file, so both
// processes open the same file; that is why each proof below also looks
// into that file and finds none of the state there, and finds it in
// PostgreSQL (idempotency records, accepted signatures, the parcel index)
// or Redis (rate-limit counters) instead.

const RATE_LIMIT = 20;
const WEBHOOK_SECRET = 'shared-state-test-webhook-secret-0123456789';
const MERCHANT = 'm-shared';

const describeWithPostgres = DATABASE_URL ? describe : describe.skip;
if (!DATABASE_URL) {
  // eslint-disable-next-line no-console
  console.info('DATABASE_URL is not set: skipping the two-API-processes test (it needs a PostgreSQL server, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres)');
}

describeWithPostgres(`two API processes sharing only PostgreSQL, Redis and the event store${DATABASE_URL ? '' : ' (skipped: DATABASE_URL is not set)'}`, () => {
  let dir: string;
  let eventsPath: string;
  let database: TestDatabase;
  let redis: LocalRedisServer;
  let a: StartedService;
  let b: StartedService;
  let pa: Platform;
  let pb: Platform;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-two-apis-'));
    mkdirSync(join(dir, 'events'));
    eventsPath = join(dir, 'events', 'aftersales.db');
    database = await createTestDatabase('aftersales_test');
    redis = await LocalRedisServer.start({ dir: join(dir, 'redis'), persistent: false });
    const env = {
      SQLITE_PATH: eventsPath,
      READ_STORE: 'postgres',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      INTEGRATION_WEBHOOK_SECRET: WEBHOOK_SECRET,
    };
    // Each process has a data folder of its own (nothing else is kept there); the events file is the one both open.
    a = await startService(env, join(dir, 'a'));
    b = await startService(env, join(dir, 'b'));
    pa = new Platform(a.api);
    pb = new Platform(b.api);
  }, 180_000);

  afterAll(async () => {
    await stopService(a);
    await stopService(b);
    await redis?.stop();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Rows of `table` in the shared SQLite file, or 0 when the table is not there at all. */
  function sqliteRows(table: string): number {
    const db = new Database(eventsPath, { readonly: true, fileMustExist: true });
    try {
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      return exists ? (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n : 0;
    } finally {
      db.close();
    }
  }

  async function party() {
    const buyerId = uniqueId('b');
    return { buyer: await pa.buyer(buyerId), spec: { buyerId, merchantId: MERCHANT, businessLine: 'home', buyerTrustScore: 650 } };
  }

  it('replays a keyed POST sent to A and then to B once: the same case, one ReturnRequested', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await pa.order({ ...spec, lines: [{ unitPrice: 4_000 }] });
    const request = { orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false };
    const key = uniqueId('open');

    const first = await pa.openCase(buyer, request, { idempotencyKey: key });
    expect(first.status).toBe(201);
    const second = await pb.openCase(buyer, request, { idempotencyKey: key });
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toEqual(first.body);
    // The same key with another body, through either: 422.
    expect((await pb.openCase(buyer, { ...request, reason: 'quality_defect' }, { idempotencyKey: key })).status).toBe(422);

    const types = await pb.eventTypes(first.body.caseId);
    expect(types.filter((type) => type === 'ReturnRequested')).toHaveLength(1);
    // The buyer's list (read models in PostgreSQL), once it has reached A's write, holds one case on the order.
    const listed = await pb.api.get(`/v1/cases?minPosition=${first.body.position}`, { token: buyer });
    expect(listed.status).toBe(200);
    expect(listed.body.items.filter((item: { orderId: string }) => item.orderId === orderId)).toHaveLength(1);

    // Where the record lives: PostgreSQL, not the file both processes share.
    const records = await database.query('SELECT principal, method, path, state FROM api_idempotency_records WHERE idempotency_key = $1', [key]);
    expect(records).toEqual([{ principal: expect.stringMatching(/^buyer:/), method: 'POST', path: '/v1/cases', state: 'completed' }]);
    expect(sqliteRows('idempotency_records')).toBe(0);
    // And that file is the one the events are in.
    expect(sqliteRows('es_events')).toBeGreaterThan(0);
  });

  it('refuses through B (401) a signed callback A accepted, and finds through B the parcel registered through A', async () => {
    const { buyer, spec } = await party();
    const { orderId } = await pa.order({ ...spec, lines: [{ unitPrice: 4_000 }] });
    // Small, trusted buyer: approved at once, awaiting the return.
    const kase = await pa.mustOpenCase(buyer, { orderId, kind: 'return_and_refund', reason: 'changed_mind', lines: [{ lineId: 'L1', quantity: 1 }], pickup: false });
    expect(kase.status).toBe('awaiting_return');
    const trackingNumber = uniqueId('YT');
    await pa.mustAct(kase.caseId, 'ship-return', buyer, { carrier: 'YTO', trackingNumber });

    const body = JSON.stringify({ trackingNumber, event: 'delivered', at: new Date().toISOString() });
    const signature = signatureHeader(WEBHOOK_SECRET, body, new Date());
    const deliver = (service: StartedService, header: string) =>
      service.api.request('POST', '/v1/integrations/logistics/events', { raw: body, headers: { 'x-signature': header } });

    const accepted = await deliver(a, signature);
    expect(accepted.status).toBe(200);
    const replayed = await deliver(b, signature);
    expect(replayed.status).toBe(401);
    expect(replayed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(replayed.body.detail).toMatch(/accepted once already/);
    // A fresh signature of the same report is the carrier retrying: B knows the parcel, acknowledges it and records nothing twice.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await deliver(b, signatureHeader(WEBHOOK_SECRET, body, new Date()))).status).toBe(200);
    expect((await pb.eventTypes(kase.caseId)).filter((type) => type === 'ReturnDelivered')).toHaveLength(1);

    const signatures = await database.query<{ n: number }>('SELECT count(*)::int AS n FROM api_accepted_signatures');
    expect(signatures[0].n).toBeGreaterThanOrEqual(2);
    expect(await database.query('SELECT case_id, ended FROM api_parcels WHERE tracking_number = $1', [trackingNumber])).toEqual([{ case_id: kase.caseId, ended: false }]);
    expect(sqliteRows('accepted_signatures')).toBe(0);
    expect(sqliteRows('parcels')).toBe(0);
  });

  it("gives a caller RATE_LIMIT_PER_MINUTE once across A and B together, not once per process", async () => {
    const caller = await pa.buyer(uniqueId('rate'));
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < RATE_LIMIT + 2; i += 1) {
      const response = await (i % 2 ? b : a).api.get('/v1/cases', { token: caller });
      statuses.push(response.status);
      remaining.push(response.headers['x-ratelimit-remaining']);
      if (response.status === 429) {
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([...Array(RATE_LIMIT).fill(200), 429, 429]);
    // One count, down from the limit, whichever process answered.
    expect(remaining.slice(0, RATE_LIMIT)).toEqual(Array.from({ length: RATE_LIMIT }, (_, i) => String(RATE_LIMIT - 1 - i)));
    // Another caller still has its own limit.
    expect((await b.api.get('/v1/cases', { token: await pb.buyer(uniqueId('rate')) })).status).toBe(200);

    // The count is in Redis.
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      await client.connect();
      const keys = await client.keys('aftersales:rate-limit:*');
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });
});
