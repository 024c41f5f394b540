import type { IdempotencyScope, RecordedResponse } from './idempotency-store';
import { SqliteIdempotencyStore, type WalSync } from './sqlite-idempotency-store';

const HOUR = 60 * 60 * 1000;
const scope: IdempotencyScope = { principal: 'buyer:u1', method: 'POST', path: '/v1/cases', key: 'k-1' };
const created: RecordedResponse = { status: 201, headers: { etag: '"0"' }, body: '{"caseId":"c1","revision":0}' };

describe('SqliteIdempotencyStore', () => {
  let now: number;
  let store: SqliteIdempotencyStore;

  beforeEach(() => {
    now = Date.UTC(2026, 0, 1);
    store = new SqliteIdempotencyStore({ path: ':memory:', now: () => now, leaseMs: 60_000 });
  });

  afterEach(() => store.close());

  async function started(request = 'hash-a', at = scope): Promise<string> {
    const claim = await store.begin(at, request);
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

  it('lets a retry take over a claim whose lease ran out, and ignores the late first holder', async () => {
    const first = await started();
    now += 61_000;
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
    const first = await store.begin(scope, 'hash-a');
    if (first.outcome !== 'started') throw new Error(first.outcome);
    now += 23 * HOUR;
    await expect(store.purgeExpired()).resolves.toBe(0);
    now += HOUR;
    await expect(store.purgeExpired()).resolves.toBe(1);
  });

  it('draws a time-ordered resource id with a claim, and keeps it when the same request takes a lapsed claim over', async () => {
    const first = await store.begin(scope, 'hash-a');
    if (first.outcome !== 'started') throw new Error(first.outcome);
    expect(first.resourceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    now += 61_000;
    await expect(store.begin(scope, 'hash-a')).resolves.toMatchObject({ outcome: 'started', resourceId: first.resourceId });
  });

  it('draws a new resource id for another body on a lapsed claim, after a release, and after retention', async () => {
    const first = await store.begin(scope, 'hash-a');
    if (first.outcome !== 'started') throw new Error(first.outcome);
    now += 61_000;
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

  it('claims the same key twice in one turn of the event loop: the first starts, the second waits', async () => {
    const [a, b] = await Promise.all([store.begin(scope, 'hash-a'), store.begin(scope, 'hash-a')]);
    expect([a.outcome, b.outcome]).toEqual(['started', 'in_progress']);
  });
});

/** A write-ahead log whose fsyncs finish when the test says. */
class HeldWalSync implements WalSync {
  readonly waiting: Array<() => void> = [];
  closed = false;

  sync(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  finishAll(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }

  close(): void {
    this.closed = true;
  }
}

describe('SqliteIdempotencyStore durability', () => {
  let wal: HeldWalSync;
  let store: SqliteIdempotencyStore;

  beforeEach(() => {
    wal = new HeldWalSync();
    store = new SqliteIdempotencyStore({ path: ':memory:', walSync: wal });
  });

  afterEach(async () => {
    wal.finishAll();
    await store.close();
  });

  /** Whether a promise has settled by the time everything already queued has run. */
  async function settled(promise: Promise<unknown>): Promise<boolean> {
    let done = false;
    promise.then(() => (done = true), () => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    return done;
  }

  it('claims without waiting for the disk', async () => {
    await expect(store.begin(scope, 'h')).resolves.toMatchObject({ outcome: 'started' });
    expect(wal.waiting).toHaveLength(0);
  });

  it('lets a started claim wait for its fsync when asked to (events kept in another store)', async () => {
    const durable = new SqliteIdempotencyStore({ path: ':memory:', walSync: wal, durableClaims: true });
    try {
      const claiming = durable.begin(scope, 'h');
      expect(await settled(claiming)).toBe(false);
      wal.finishAll();
      await expect(claiming).resolves.toMatchObject({ outcome: 'started' });
    } finally {
      await durable.close();
    }
  });

  it('records a response without waiting for the disk, and asks for an fsync behind it', async () => {
    const claim = await store.begin(scope, 'h');
    if (claim.outcome !== 'started') throw new Error(claim.outcome);
    const completing = store.complete(scope, claim.claimId, created);
    expect(await settled(completing)).toBe(true);
    expect(wal.waiting).toHaveLength(1);
    wal.finishAll();
  });

  it('replays a record only once it is on disk', async () => {
    const claim = await store.begin(scope, 'h');
    if (claim.outcome !== 'started') throw new Error(claim.outcome);
    await store.complete(scope, claim.claimId, created);
    const replaying = store.begin(scope, 'h');
    expect(await settled(replaying)).toBe(false);
    wal.finishAll();
    await expect(replaying).resolves.toEqual({ outcome: 'replay', response: created });
  });

  it('closes after the fsyncs it waits for, and then the write-ahead log', async () => {
    const claim = await store.begin(scope, 'h');
    if (claim.outcome !== 'started') throw new Error(claim.outcome);
    const completing = store.complete(scope, claim.claimId, created);
    const closing = store.close();
    expect(await settled(closing)).toBe(false);
    expect(wal.closed).toBe(false);
    wal.finishAll();
    await Promise.all([completing, closing]);
    expect(wal.closed).toBe(true);
    await expect(store.begin(scope, 'h')).rejects.toThrow(/closed/);
  });
});
