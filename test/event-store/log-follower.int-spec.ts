import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFollower, SqliteEventStore, type StoredEvent } from '@aftersales/event-store';

const event = (type: string, n: number) => ({ id: randomUUID(), type, data: { n }, metadata: {} });

describe('LogFollower on the SQLite store', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'follower-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db') });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A consumer whose "transaction" is a plain object: what it saw and its checkpoint, together. */
  function consumer(options: { eventTypes?: string[]; maxBatch?: number; failOnce?: (events: StoredEvent[]) => boolean } = {}) {
    const seen: number[] = [];
    const batches: number[] = [];
    let stored = 0;
    let failed = false;
    const follower = new LogFollower(store, {
      name: 'test',
      eventTypes: options.eventTypes,
      maxBatch: options.maxBatch,
      retryDelayMs: 10,
      checkpoint: async () => stored,
      handle: async (events, position) => {
        if (!failed && options.failOnce?.(events)) {
          failed = true;
          throw new Error('injected');
        }
        expect(position).toBeGreaterThanOrEqual(events.at(-1)?.position ?? 0);
        seen.push(...events.map((e) => (e.data as { n: number }).n));
        batches.push(events.length);
        stored = position;
      },
    });
    return { follower, seen, batches, stored: () => stored };
  }

  it('hands history and then live events over in order, in batches no larger than asked', async () => {
    for (let i = 0; i < 50; i += 1) await store.append(`s-${i % 3}`, [event('A', i)], { expectedRevision: 'any' });
    const { follower, seen, batches } = consumer({ maxBatch: 7 });
    follower.start();
    await follower.caughtUp;
    const live = await store.append('s-9', [event('A', 50), event('A', 51)], { expectedRevision: 'any' });
    expect(await follower.waitFor(live.position, 5000)).toBe(true);
    await follower.stop();
    expect(seen).toEqual(Array.from({ length: 52 }, (_, i) => i));
    expect(Math.max(...batches)).toBeLessThanOrEqual(7);
  });

  it('resumes after its stored checkpoint: nothing handled twice, nothing lost', async () => {
    for (let i = 0; i < 10; i += 1) await store.append('s-1', [event('A', i)], { expectedRevision: 'any' });
    const first = consumer();
    first.follower.start();
    await first.follower.caughtUp;
    await first.follower.stop();
    const last = await store.append('s-1', [event('A', 10)], { expectedRevision: 'any' });

    let stored = first.stored();
    const again: number[] = [];
    const second = new LogFollower(store, {
      name: 'again',
      checkpoint: async () => stored,
      handle: async (events, position) => {
        again.push(...events.map((e) => (e.data as { n: number }).n));
        stored = position;
      },
    });
    second.start();
    expect(await second.waitFor(last.position, 5000)).toBe(true);
    await second.stop();
    expect(again).toEqual([10]);
  });

  it('redoes a batch whose handling failed, from the stored checkpoint', async () => {
    for (let i = 0; i < 5; i += 1) await store.append('s-1', [event('A', i)], { expectedRevision: 'any' });
    const errors: string[] = [];
    const { follower, seen } = consumer({ failOnce: (events) => events.some((e) => (e.data as { n: number }).n === 3) });
    (follower as unknown as { options: { onError: (e: Error) => void } }).options.onError = (e) => errors.push(e.message);
    follower.start();
    expect(await follower.waitFor(5, 5000)).toBe(true);
    await follower.stop();
    expect(errors).toEqual(['injected']);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('hands over only the types asked for, while its checkpoint passes the others', async () => {
    await store.append('s-1', [event('A', 0), event('B', 1), event('B', 2)], { expectedRevision: 'any' });
    const tail = await store.append('s-2', [event('B', 3)], { expectedRevision: 'any' });
    const { follower, seen, stored } = consumer({ eventTypes: ['A'] });
    follower.start();
    await follower.caughtUp;
    await store.append('s-3', [event('A', 4)], { expectedRevision: 'any' });
    expect(await follower.waitFor(tail.position + 1, 5000)).toBe(true);
    await follower.stop();
    expect(seen).toEqual([0, 4]);
    expect(stored()).toBe(tail.position + 1);
  });

  it('answers waitFor with false when the position is not reached in time', async () => {
    const { follower } = consumer();
    follower.start();
    await follower.caughtUp;
    expect(await follower.waitFor(1, 50)).toBe(false);
    await follower.stop();
  });

  it('with gatherMs, takes what was appended while it waited after a batch as one batch', async () => {
    const batches: number[][] = [];
    let firstHandled!: () => void;
    const first = new Promise<void>((resolve) => (firstHandled = resolve));
    let stored = 0;
    // Long enough for three appends to be durable before the wait ends, on any machine.
    const follower = new LogFollower(store, {
      name: 'gathering',
      gatherMs: 3000,
      checkpoint: async () => stored,
      handle: async (events, position) => {
        stored = position;
        if (events.length === 0) return;
        batches.push(events.map((e) => (e.data as { n: number }).n));
        firstHandled();
      },
    });
    follower.start();
    await follower.caughtUp;
    await store.append('s-1', [event('A', 1)], { expectedRevision: 'any' });
    await first;
    for (const n of [2, 3]) await store.append('s-1', [event('A', n)], { expectedRevision: 'any' });
    const last = await store.append('s-1', [event('A', 4)], { expectedRevision: 'any' });
    expect(await follower.waitFor(last.position, 10_000)).toBe(true);
    await follower.stop();
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('with gatherMs, stops without waiting out the gathering', async () => {
    let stored = 0;
    const follower = new LogFollower(store, { name: 'gathering', gatherMs: 600_000, checkpoint: async () => stored, handle: async (_events, position) => void (stored = position) });
    follower.start();
    await follower.caughtUp;
    const appended = await store.append('s-1', [event('A', 1)], { expectedRevision: 'any' });
    expect(await follower.waitFor(appended.position, 10_000)).toBe(true);
    // A stop that waited out the ten minutes would outlast the test's timeout.
    await follower.stop();
  });
});
