import {
  PostgresIdempotencyStore,
  SqliteIdempotencyStore,
  type IdempotencyScope,
  type IdempotencyStore,
  type RecordedResponse,
} from '@aftersales/application';
import { DATABASE_URL, createTestDatabase, type TestDatabase } from './support/postgres-database';

// The IdempotencyStore port's semantics, run against the SQLite store in
// every run and against the PostgreSQL one whenever DATABASE_URL names a
// server: the same cases, so a deployment that moves its records to
// PostgreSQL (READ_STORE=postgres) keeps every answer the API gives.

const HOUR = 60 * 60 * 1000;
const LEASE_MS = 60_000;
const scope: IdempotencyScope = { principal: 'buyer:u1', method: 'POST', path: '/v1/cases', key: 'k-1' };
const created: RecordedResponse = { status: 201, headers: { etag: '"0"' }, body: '{"caseId":"c1","revision":0}' };

interface StoreKind {
  name: string;
  /** A store reading `now` for its clock; every store of one test shares the records. */
  open(now: () => number): Promise<IdempotencyStore>;
  /** What a test leaves behind is gone before the next. */
  reset(): Promise<void>;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** PostgreSQL: drops the table, so the next store to open creates it. */
  dropTable?(): Promise<void>;
}

const sqlite = (): StoreKind => ({
  name: 'SQLite',
  // One in-memory database per store: the tests below that need two stores on one set of records run on PostgreSQL.
  open: async (now) => new SqliteIdempotencyStore({ path: ':memory:', now, leaseMs: LEASE_MS }),
  reset: async () => undefined,
  setUp: async () => undefined,
  tearDown: async () => undefined,
});

const postgres = (): StoreKind => {
  let database: TestDatabase | undefined;
  return {
    name: 'PostgreSQL',
    open: (now) => PostgresIdempotencyStore.open({ databaseUrl: database!.url, now, leaseMs: LEASE_MS }),
    reset: async () => void (await database!.query('TRUNCATE api_idempotency_records')),
    setUp: async () => {
      database = await createTestDatabase('idempotency_test');
    },
    tearDown: async () => database?.drop(),
    dropTable: async () => void (await database!.query('DROP TABLE api_idempotency_records')),
  };
};

if (!DATABASE_URL) {
  // eslint-disable-next-line no-console
  console.info('DATABASE_URL is not set: the idempotency store contract runs on SQLite only');
}

describe.each(DATABASE_URL ? [sqlite(), postgres()] : [sqlite()])('IdempotencyStore contract on $name', (kind) => {
  let now: number;
  let store: IdempotencyStore;

  beforeAll(() => kind.setUp());
  afterAll(() => kind.tearDown());

  beforeEach(async () => {
    now = Date.UTC(2026, 0, 1);
    store = await kind.open(() => now);
  });

  afterEach(async () => {
    await store.close();
    await kind.reset();
  });

  async function started(request = 'hash-a', at = scope, on = store): Promise<string> {
    const claim = await on.begin(at, request);
    if (claim.outcome !== 'started') throw new Error(`expected started, got ${claim.outcome}`);
    return claim.claimId;
  }

  it('starts the first request, then replays its response for the same body', async () => {
    const claimId = await started();
    await store.complete(scope, claimId, created);
    await expect(store.begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'replay', response: created });
  });

  it('replays an empty body as undefined', async () => {
    await store.complete(scope, await started(), { status: 200, headers: {}, body: undefined });
    await expect(store.begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'replay', response: { status: 200, headers: {}, body: undefined } });
  });

  it('says mismatch for another body, in progress or finished', async () => {
    const claimId = await started();
    await expect(store.begin(scope, 'hash-b')).resolves.toEqual({ outcome: 'mismatch' });
    await store.complete(scope, claimId, created);
    await expect(store.begin(scope, 'hash-b')).resolves.toEqual({ outcome: 'mismatch' });
  });

  it('says in progress while the first request runs', async () => {
    await started();
    await expect(store.begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'in_progress' });
  });

  it('keeps keys apart by principal, method and path', async () => {
    await started();
    await started('hash-a', { ...scope, principal: 'buyer:u2' });
    await started('hash-a', { ...scope, method: 'PUT' });
    await started('hash-a', { ...scope, path: '/v1/cases/c1/withdraw' });
  });

  it('forgets a released claim, so a retry runs again', async () => {
    await store.release(scope, await started());
    await started();
  });

  it('does not release or complete a claim it does not hold', async () => {
    const claimId = await started();
    await store.release(scope, 'someone-else');
    await store.complete(scope, 'someone-else', created);
    await expect(store.begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'in_progress' });
    await store.complete(scope, claimId, created);
    await store.release(scope, claimId);
    await expect(store.begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'replay', response: created });
  });

  it('lets a retry take over a claim whose lease ran out, and ignores the late first holder', async () => {
    const first = await started();
    now += LEASE_MS + 1000;
    const second = await started();
    await store.complete(scope, first, { status: 200, headers: {}, body: 'first' });
    await expect(store.begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'in_progress' });
    await store.complete(scope, second, { status: 200, headers: {}, body: 'second' });
    await expect(store.begin(scope, 'hash-a')).resolves.toMatchObject({ outcome: 'replay', response: { body: 'second' } });
  });

  it('keeps a record 24 hours, then starts afresh', async () => {
    await store.complete(scope, await started(), created);
    now += 24 * HOUR - 1;
    await expect(store.begin(scope, 'hash-a')).resolves.toMatchObject({ outcome: 'replay' });
    now += 1;
    await expect(store.begin(scope, 'hash-b')).resolves.toMatchObject({ outcome: 'started' });
  });

  it('purges expired records', async () => {
    for (const key of ['a', 'b', 'c']) await store.complete({ ...scope, key }, await started('h', { ...scope, key }), created);
    now += 12 * HOUR;
    await store.complete({ ...scope, key: 'd' }, await started('h', { ...scope, key: 'd' }), created);
    now += 12 * HOUR;
    await expect(store.purgeExpired()).resolves.toBe(3);
    await expect(store.begin({ ...scope, key: 'd' }, 'h')).resolves.toMatchObject({ outcome: 'replay' });
  });

  it('keeps a lapsed claim, and the resource id a retry converges on, for the retention period', async () => {
    await started();
    now += 23 * HOUR;
    await expect(store.purgeExpired()).resolves.toBe(0);
    now += HOUR;
    await expect(store.purgeExpired()).resolves.toBe(1);
  });

  it('draws a time-ordered resource id with a claim, and keeps it when the same request takes a lapsed claim over', async () => {
    const first = await store.begin(scope, 'hash-a');
    if (first.outcome !== 'started') throw new Error(first.outcome);
    expect(first.resourceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    now += LEASE_MS + 1000;
    await expect(store.begin(scope, 'hash-a')).resolves.toMatchObject({ outcome: 'started', resourceId: first.resourceId });
  });

  it('draws a new resource id for another body on a lapsed claim, after a release, and after retention', async () => {
    const first = await store.begin(scope, 'hash-a');
    if (first.outcome !== 'started') throw new Error(first.outcome);
    now += LEASE_MS + 1000;
    const other = await store.begin(scope, 'hash-b');
    if (other.outcome !== 'started') throw new Error(other.outcome);
    expect(other.resourceId).not.toBe(first.resourceId);

    await store.release(scope, other.claimId);
    const afresh = await store.begin(scope, 'hash-b');
    if (afresh.outcome !== 'started') throw new Error(afresh.outcome);
    expect(afresh.resourceId).not.toBe(other.resourceId);

    await store.complete(scope, afresh.claimId, created);
    now += 24 * HOUR;
    await expect(store.begin(scope, 'hash-b')).resolves.not.toMatchObject({ resourceId: afresh.resourceId });
  });

  it('claims the same key twice at once: one starts, the other is told it is in progress', async () => {
    const outcomes = (await Promise.all([store.begin(scope, 'hash-a'), store.begin(scope, 'hash-a')])).map((claim) => claim.outcome);
    expect(outcomes.sort()).toEqual(['in_progress', 'started']);
  });

  it('refuses work once closed', async () => {
    await store.close();
    await expect(store.begin(scope, 'h')).rejects.toThrow(/closed/);
  });

  if (kind.name !== 'PostgreSQL') return;

  describe('shared by several processes', () => {
    let other: IdempotencyStore;

    beforeEach(async () => {
      other = await kind.open(() => now);
    });

    afterEach(() => other.close());

    it('replays through one store what the other recorded', async () => {
      await store.complete(scope, await started(), created);
      await expect(other.begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'replay', response: created });
      await expect(other.begin(scope, 'hash-b')).resolves.toEqual({ outcome: 'mismatch' });
    });

    it('lets exactly one of many concurrent first requests on each key start, whichever store they reach', async () => {
      const keys = Array.from({ length: 20 }, (_, i) => `race-${i}`);
      const claims = await Promise.all(
        keys.flatMap((key) => [store, other, store, other].map((on) => on.begin({ ...scope, key }, 'same-body').then((claim) => ({ key, claim })))),
      );
      for (const key of keys) {
        const outcomes = claims.filter((c) => c.key === key).map((c) => c.claim.outcome).sort();
        expect({ key, outcomes }).toEqual({ key, outcomes: ['in_progress', 'in_progress', 'in_progress', 'started'] });
      }
    });

    it('lets exactly one of two stores take over a lapsed claim, and both agree on its resource id', async () => {
      const first = await store.begin(scope, 'hash-a');
      if (first.outcome !== 'started') throw new Error(first.outcome);
      now += LEASE_MS + 1000;
      const retries = await Promise.all([store.begin(scope, 'hash-a'), other.begin(scope, 'hash-a'), other.begin(scope, 'hash-a')]);
      expect(retries.map((claim) => claim.outcome).sort()).toEqual(['in_progress', 'in_progress', 'started']);
      expect(retries.find((claim) => claim.outcome === 'started')).toMatchObject({ resourceId: first.resourceId });
    });

    it('keeps records across closing every store and opening a new one', async () => {
      await store.complete(scope, await started(), created);
      await store.close();
      await other.close();
      const reopened = await kind.open(() => now);
      try {
        await expect(reopened.begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'replay', response: created });
      } finally {
        await reopened.close();
      }
    });

    it('creates its table once when several processes start together', async () => {
      await Promise.all([store.close(), other.close()]);
      await kind.dropTable!();
      const many = await Promise.all(Array.from({ length: 4 }, () => kind.open(() => now)));
      try {
        await started('hash-a', scope, many[0]);
        await expect(many[3].begin(scope, 'hash-a')).resolves.toEqual({ outcome: 'in_progress' });
      } finally {
        await Promise.all(many.map((each) => each.close()));
      }
    });
  });
});
