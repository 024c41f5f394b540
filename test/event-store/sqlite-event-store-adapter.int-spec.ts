import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConcurrencyError,
  DuplicateEventIdError,
  EventStoreUnavailableError,
  SqliteEventStore,
  SubscriptionDroppedError,
  type EventSubscription,
  type NewEvent,
  type StoredEvent,
} from '@aftersales/event-store';

// What only the SQLite adapter promises: group commit, durability on the
// file, several processes sharing it, and a file shared with other tables.

const event = (type = 'ThingHappened', data: unknown = {}): NewEvent => ({ id: randomUUID(), type, data, metadata: {} });

describe('SqliteEventStore', () => {
  let dir: string;
  let path: string;
  const opened: SqliteEventStore[] = [];
  const open = (options: { pollIntervalMs?: number; busyTimeoutMs?: number } = {}): SqliteEventStore => {
    const store = new SqliteEventStore({ path, ...options });
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-es-'));
    path = join(dir, 'nested', 'folder', 'events.db');
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('group commit', () => {
    it('commits appends made in the same turn of the event loop in one transaction', async () => {
      const store = open();
      const before = store.groupCommitStats();

      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.append(`order-${i}`, [event()], { expectedRevision: 'no_stream' })),
      );

      const after = store.groupCommitStats();
      expect(after.batches - before.batches).toBe(1);
      expect(after.appends - before.appends).toBe(50);
      expect(after.largestBatch).toBe(50);
      expect(new Set(results.map((r) => r.position)).size).toBe(50);
    });

    it('puts appends made while a batch commits into the next batch', async () => {
      const store = open();
      const callers = 20;
      const appendsEach = 5;

      await Promise.all(
        Array.from({ length: callers }, async (_, caller) => {
          for (let i = 0; i < appendsEach; i++) {
            await store.append(`order-${caller}`, [event()], { expectedRevision: i === 0 ? 'no_stream' : i - 1 });
          }
        }),
      );

      const stats = store.groupCommitStats();
      expect(stats.appends).toBe(callers * appendsEach);
      expect(stats.batches).toBe(appendsEach);
      expect(await store.readAll({ maxCount: 1000 })).toHaveLength(callers * appendsEach);
    });

    it('checks each append in a batch against the revisions left by the ones before it', async () => {
      const store = open();
      const before = store.groupCommitStats().batches;

      const [first, second, winner, loser] = await Promise.allSettled([
        store.append('order-1', [event()], { expectedRevision: 'no_stream' }),
        store.append('order-1', [event()], { expectedRevision: 0 }),
        store.append('order-2', [event('Won')], { expectedRevision: 'no_stream' }),
        store.append('order-2', [event('Lost')], { expectedRevision: 'no_stream' }),
      ]);

      expect(store.groupCommitStats().batches - before).toBe(1);
      expect(first).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 0 } });
      expect(second).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 1 } });
      expect(winner.status).toBe('fulfilled');
      expect(loser).toMatchObject({ status: 'rejected', reason: expect.any(ConcurrencyError) });
      expect((loser as PromiseRejectedResult).reason).toMatchObject({ expected: 'no_stream', actual: 0 });
      expect((await store.readStream('order-2')).map((e) => e.type)).toEqual(['Won']);
    });

    it('lets one refused append in a batch write nothing and fail no other append', async () => {
      const store = open();
      const taken = event();
      await store.append('order-0', [taken], { expectedRevision: 'no_stream' });
      const before = store.groupCommitStats().batches;

      const [good1, refused, good2] = await Promise.allSettled([
        store.append('order-1', [event(), event()], { expectedRevision: 'no_stream' }),
        // Its first event would insert fine; the second reuses an id.
        store.append('order-2', [event(), { ...event(), id: taken.id }], { expectedRevision: 'no_stream' }),
        store.append('order-3', [event(), event()], { expectedRevision: 'no_stream' }),
      ]);

      expect(store.groupCommitStats().batches - before).toBe(1);
      expect(good1.status).toBe('fulfilled');
      expect(good2.status).toBe('fulfilled');
      expect(refused).toMatchObject({ status: 'rejected', reason: expect.any(DuplicateEventIdError) });
      expect(await store.readStream('order-1')).toHaveLength(2);
      expect(await store.readStream('order-2')).toEqual([]);
      expect(await store.readStream('order-3')).toHaveLength(2);
    });

    it('acknowledges an append only once it is committed and visible to other connections', async () => {
      const store = open();
      await store.append('order-0', [event()], { expectedRevision: 'no_stream' });
      const other = new Database(path, { readonly: true });
      try {
        const count = other.prepare<[], number>('SELECT COUNT(*) FROM es_events').pluck();
        const seen = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.append(`order-${i + 1}`, [event()], { expectedRevision: 'no_stream' }).then(() => count.get()),
          ),
        );
        expect(seen.every((n) => n === 11)).toBe(true);
      } finally {
        other.close();
      }
    });

    it('rejects every append of a batch that cannot commit, and recovers afterwards', async () => {
      const store = open({ busyTimeoutMs: 50 });
      const blocker = new Database(path);
      try {
        blocker.exec('BEGIN IMMEDIATE');
        const outcomes = await Promise.allSettled(
          Array.from({ length: 3 }, (_, i) => store.append(`order-${i}`, [event()], { expectedRevision: 'no_stream' })),
        );
        for (const outcome of outcomes) {
          expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(EventStoreUnavailableError) });
        }
        blocker.exec('ROLLBACK');
      } finally {
        blocker.close();
      }

      await store.append('order-0', [event()], { expectedRevision: 'no_stream' });
      expect(await store.readAll()).toHaveLength(1);
    });
  });

  describe('durability', () => {
    // setImmediate callbacks queued after the append's flush run in the same
    // turn, before libuv can deliver the fsync's completion: the batch is
    // committed and its fsync still running.
    const afterTheCommit = () => new Promise((resolve) => setImmediate(resolve));

    it('answers an append only after the write-ahead log is on disk, and shows the batch to log readers only then', async () => {
      const store = open();
      await store.append('order-0', [event()], { expectedRevision: 'no_stream' });
      const fsyncs = jest.spyOn(fs, 'fsync');
      try {
        let acknowledged = false;
        const pending = store.append('order-1', [event()], { expectedRevision: 'no_stream' }).then((result) => {
          acknowledged = true;
          return result;
        });
        await afterTheCommit();

        expect(fsyncs).toHaveBeenCalledTimes(1);
        expect(acknowledged).toBe(false);
        // The next decision on the stream must see it (its own append comes after this fsync) ...
        expect(await store.readStream('order-1')).toHaveLength(1);
        // ... but a projection must not take in what a power loss could still take back.
        expect(await store.readAll()).toHaveLength(1);
        expect(await store.headPosition()).toBe(1);

        await expect(pending).resolves.toEqual({ nextExpectedRevision: 0, position: 2 });
        expect(await store.readAll()).toHaveLength(2);
        expect(await store.headPosition()).toBe(2);
      } finally {
        fsyncs.mockRestore();
      }
    });

    it('hides a batch awaiting its fsync from log readers even when an earlier batch awaiting one wrote nothing', async () => {
      const store = open();
      await store.append('order-0', [event()], { expectedRevision: 'no_stream' });
      const fsyncs = holdFsync();
      const seen: number[] = [];
      let subscription: EventSubscription | undefined;
      try {
        // Batch 1 conflicts (writes nothing) and its fsync is held; batch 2 writes position 2 and waits behind it.
        const refused = store.append('order-0', [event()], { expectedRevision: 'no_stream' });
        await afterTheCommit();
        const second = store.append('order-2', [event()], { expectedRevision: 'no_stream' });
        await afterTheCommit();
        expect(fsyncs.held()).toBe(1);

        expect(await store.readAll()).toHaveLength(1);
        expect(await store.headPosition()).toBe(1);
        subscription = store.subscribeToAll({});
        const consuming = (async () => {
          for await (const stored of subscription!) {
            seen.push(stored.position);
            if (seen.length === 2) break;
          }
        })();
        await subscription.caughtUp;
        expect(seen).toEqual([1]);

        fsyncs.release();
        await expect(refused).rejects.toBeInstanceOf(ConcurrencyError);
        fsyncs.release();
        await expect(second).resolves.toEqual({ nextExpectedRevision: 0, position: 2 });
        expect(await store.readAll()).toHaveLength(2);
        expect(await store.headPosition()).toBe(2);
        await withTimeout(consuming, 5_000);
        expect(seen).toEqual([1, 2]);
      } finally {
        fsyncs.restore();
        await subscription?.close();
      }
    });

    it('keeps durable() pending until an fsync that started after the call, not one already running, is done', async () => {
      const store = open();
      const fsyncs = holdFsync();
      try {
        const appending = store.append('order-1', [event()], { expectedRevision: 'no_stream' });
        await afterTheCommit();
        expect(fsyncs.held()).toBe(1);
        // A reader already sees the committed batch: the barrier must cover it.
        expect(await store.readStream('order-1')).toHaveLength(1);
        let durable = false;
        const barrier = store.durable().then(() => (durable = true));
        await afterTheCommit();
        expect(durable).toBe(false);

        fsyncs.release();
        await appending;
        expect(durable).toBe(false);
        expect(fsyncs.held()).toBe(1);

        fsyncs.release();
        await barrier;
        expect(await store.readAll()).toHaveLength(1);
      } finally {
        fsyncs.restore();
      }
    });

    it('makes another connection’s commit to the file durable too: durable() fsyncs the log even with nothing of its own', async () => {
      const store = open();
      await store.append('order-0', [event()], { expectedRevision: 'no_stream' });
      await appendRowThroughAnotherConnection(path, 'order-1', 0, 'OFF');
      // Another process's event is visible to stream reads at once.
      expect(await store.readStream('order-1')).toHaveLength(1);
      const fsyncs = holdFsync();
      try {
        let durable = false;
        const barrier = store.durable().then(() => (durable = true));
        await afterTheCommit();
        expect(fsyncs.held()).toBe(1);
        expect(durable).toBe(false);

        fsyncs.release();
        await barrier;
      } finally {
        fsyncs.restore();
      }
    });

    it('rejects durable() with the durability failure when the fsync fails, and refuses appends from then on', async () => {
      const store = open();
      await store.append('order-0', [event()], { expectedRevision: 'no_stream' });
      const fsyncs = jest.spyOn(fs, 'fsync').mockImplementationOnce((_fd, callback) => callback(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
      try {
        await expect(store.durable()).rejects.toBeInstanceOf(EventStoreUnavailableError);
        await expect(store.durable()).rejects.toThrow(/fsync/);
        await expect(store.append('order-1', [event()], { expectedRevision: 'no_stream' })).rejects.toThrow(/fsync/);
        await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreUnavailableError);
      } finally {
        fsyncs.mockRestore();
      }
    });

    it('lets batches committed during an fsync share the next one', async () => {
      const store = open();
      const fsyncs = jest.spyOn(fs, 'fsync');
      try {
        await Promise.all(
          Array.from({ length: 10 }, async (_, caller) => {
            for (let i = 0; i < 5; i++) await store.append(`order-${caller}`, [event()], { expectedRevision: i === 0 ? 'no_stream' : i - 1 });
          }),
        );
        expect(fsyncs.mock.calls.length).toBeLessThanOrEqual(store.groupCommitStats().batches);
        expect(await store.readAll()).toHaveLength(50);
      } finally {
        fsyncs.mockRestore();
      }
    });

    it('refuses every append after a failed fsync instead of trusting the file again', async () => {
      const store = open();
      await store.append('order-0', [event()], { expectedRevision: 'no_stream' });
      const fsyncs = jest.spyOn(fs, 'fsync').mockImplementationOnce((_fd, callback) => callback(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
      try {
        await expect(store.append('order-1', [event()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(EventStoreUnavailableError);
        await expect(store.append('order-2', [event()], { expectedRevision: 'no_stream' })).rejects.toThrow(/fsync/);
        expect(await store.readStream('order-0')).toHaveLength(1);
      } finally {
        fsyncs.mockRestore();
      }
    });
  });

  describe('checkpoints', () => {
    it('copies the write-ahead log into the database file from its own thread while appends come in', async () => {
      const store = open();
      const before = fs.statSync(path).size;
      const data = { text: 'x'.repeat(1_000) };
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(`order-${batch}-${i}`, [event('ThingHappened', data)], { expectedRevision: 'no_stream' })));
      }
      // About 500 KB of events: far below SQLite's own backstop, so only the checkpointer thread can have moved them.
      const deadline = Date.now() + 5_000;
      while (fs.statSync(path).size < before + 400_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fs.statSync(path).size).toBeGreaterThan(before + 400_000);
      expect(await store.readAll({ maxCount: 1_000 })).toHaveLength(500);
    });
  });

  describe('stream reads', () => {
    it('sees events another connection appended after this one learned where the stream ends', async () => {
      const store = open();
      const other = open();
      await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
      expect(await store.readStream('order-1', { fromRevision: 1 })).toEqual([]);

      await other.append('order-1', [event('Second')], { expectedRevision: 0 });

      expect((await store.readStream('order-1', { fromRevision: 1 })).map((e) => e.type)).toEqual(['Second']);
    });

    it('sees a stream another component wrote with its own connection to the file', async () => {
      const store = open();
      expect(await store.readStream('order-1')).toEqual([]);
      await appendRowThroughAnotherConnection(path, 'order-1', 0);
      expect(await store.readStream('order-1')).toHaveLength(1);
    });

    it('sees events another connection appended just before this one appended elsewhere', async () => {
      const store = open();
      await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
      expect(await store.readStream('order-1', { fromRevision: 1 })).toEqual([]);

      await appendRowThroughAnotherConnection(path, 'order-1', 1);
      // This append's events come after the other connection's: the log's head is this store's own again.
      await store.append('order-2', [event()], { expectedRevision: 'no_stream' });

      expect((await store.readStream('order-1', { fromRevision: 1 })).map((e) => e.revision)).toEqual([1]);
    });

    it('keeps what it knows when another connection writes only other tables of the file', async () => {
      const store = open();
      await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
      const other = new Database(path);
      try {
        other.exec('CREATE TABLE IF NOT EXISTS side_table (n INTEGER)');
        other.prepare('INSERT INTO side_table (n) VALUES (1)').run();
      } finally {
        other.close();
      }
      expect(await store.readStream('order-1', { fromRevision: 1 })).toEqual([]);
      await appendRowThroughAnotherConnection(path, 'order-1', 1);
      expect(await store.readStream('order-1', { fromRevision: 1 })).toHaveLength(1);
    });

    it('finds nothing after the last revision it appended without reading, and everything before it', async () => {
      const store = open();
      await store.append('order-1', [event(), event(), event()], { expectedRevision: 'no_stream' });
      expect(await store.readStream('order-1', { fromRevision: 3 })).toEqual([]);
      expect((await store.readStream('order-1', { fromRevision: 1 })).map((e) => e.revision)).toEqual([1, 2]);
      // An idempotent retry of the first events says nothing about where the stream ends.
      expect(await store.readStream('order-1', { fromRevision: 3 })).toEqual([]);
    });
  });

  describe('event ids', () => {
    it('refuses an id already used in another stream', async () => {
      const store = open();
      const first = event();
      await store.append('order-1', [first], { expectedRevision: 'no_stream' });

      const attempt = store.append('order-2', [{ ...event(), id: first.id.toUpperCase() }], { expectedRevision: 'no_stream' });

      await expect(attempt).rejects.toBeInstanceOf(DuplicateEventIdError);
      await expect(attempt).rejects.toMatchObject({ code: 'DUPLICATE_EVENT_ID', eventId: first.id, stream: 'order-2' });
      expect(await store.readStream('order-2')).toEqual([]);
    });

    it('refuses an id reused at another place in the same stream', async () => {
      const store = open();
      const first = event();
      await store.append('order-1', [first], { expectedRevision: 'no_stream' });

      await expect(store.append('order-1', [first], { expectedRevision: 0 })).rejects.toBeInstanceOf(DuplicateEventIdError);
      expect(await store.readStream('order-1')).toHaveLength(1);
    });

    it('lets a conflicting revision win over a reused id', async () => {
      const store = open();
      const first = event();
      await store.append('order-1', [first, event()], { expectedRevision: 'no_stream' });

      await expect(store.append('order-2', [first], { expectedRevision: 3 })).rejects.toBeInstanceOf(ConcurrencyError);
    });

    it.each(['any', 'stream_exists'] as const)('treats a retry with %s as a no-op', async (expectedRevision) => {
      const store = open();
      await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
      const retried = [event(), event()];
      const original = await store.append('order-1', retried, { expectedRevision });
      await store.append('order-1', [event()], { expectedRevision: 2 });

      await expect(store.append('order-1', retried, { expectedRevision })).resolves.toEqual(original);
      expect(await store.readStream('order-1')).toHaveLength(4);
    });
  });

  describe('the file', () => {
    it('keeps acknowledged events across a reopen, and positions keep increasing', async () => {
      const first = open();
      const appended = await first.append('order-1', [event('A', { n: 1 }), event('B', { n: 2 })], {
        expectedRevision: 'no_stream',
      });
      const before = await first.readAll();
      await first.close();

      const second = open();
      expect(await second.readAll()).toEqual(before);
      expect(await second.headPosition()).toBe(appended.position);
      const next = await second.append('order-1', [event()], { expectedRevision: 1 });
      expect(next.position).toBeGreaterThan(appended.position);
    });

    it('starts empty: head 0, nothing to read, a subscription caught up at once', async () => {
      const store = open();
      expect(await store.headPosition()).toBe(0);
      expect(await store.readAll()).toEqual([]);
      const subscription = store.subscribeToAll({});
      const iteration = drain(subscription);
      await subscription.caughtUp;
      await subscription.close();
      expect(await iteration).toEqual([]);
    });

    it('shares the file with other tables and migrates idempotently', async () => {
      const bootstrap = new Database(join(dir, 'shared.db'));
      bootstrap.exec("CREATE TABLE read_model_cases (id TEXT PRIMARY KEY); INSERT INTO read_model_cases VALUES ('case-1')");
      bootstrap.close();
      path = join(dir, 'shared.db');

      const first = open();
      await first.append('order-1', [event()], { expectedRevision: 'no_stream' });
      await first.close();
      const second = open();
      expect(await second.readStream('order-1')).toHaveLength(1);

      const inspect = new Database(path, { readonly: true });
      try {
        expect(inspect.prepare('SELECT id FROM read_model_cases').pluck().all()).toEqual(['case-1']);
        expect(inspect.prepare('SELECT version FROM es_schema_migrations').pluck().all()).toEqual([1]);
        expect(inspect.pragma('journal_mode', { simple: true })).toBe('wal');
      } finally {
        inspect.close();
      }
    });

    it('lets a second instance on the same file follow appends through polling', async () => {
      const writer = open();
      const reader = open({ pollIntervalMs: 20 });
      const subscription = reader.subscribeToAll({});
      const received: StoredEvent[] = [];
      const iteration = (async () => {
        for await (const stored of subscription) {
          received.push(stored);
          if (received.length === 3) break;
        }
      })();
      await subscription.caughtUp;

      const events = [event(), event(), event()];
      await writer.append('order-1', events.slice(0, 2), { expectedRevision: 'no_stream' });
      await writer.append('order-2', events.slice(2), { expectedRevision: 'no_stream' });

      await withTimeout(iteration, 5_000);
      expect(received.map((e) => e.id)).toEqual(events.map((e) => e.id));
    });
  });

  describe('subscriptions', () => {
    it('delivers every event exactly once, in order, while many writers append', async () => {
      const store = open();
      const writers = 20;
      const appendsEach = 25;
      const total = writers * appendsEach;
      const subscription = store.subscribeToAll({});
      const received: StoredEvent[] = [];
      const iteration = (async () => {
        for await (const stored of subscription) {
          received.push(stored);
          if (received.length === total) break;
          // A slow consumer: batches commit while it works.
          if (received.length % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      })();

      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < appendsEach; i++) {
            await store.append(`order-${w}`, [event()], { expectedRevision: i === 0 ? 'no_stream' : i - 1 });
          }
        }),
      );
      await withTimeout(iteration, 10_000);

      const all = await store.readAll({ maxCount: total + 1 });
      expect(received.map((e) => e.position)).toEqual(all.map((e) => e.position));
    });
  });

  describe('subscriptions that fail', () => {
    it('throws SubscriptionDroppedError from the iterator when reading the log fails', async () => {
      // Polls soon: the failing read is its next look at the log.
      const store = open({ pollIntervalMs: 10 });
      await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
      const subscription = store.subscribeToAll({});
      const iteration = drain(subscription);
      await subscription.caughtUp;
      // Another component breaks the table under the store: its next read fails.
      const other = new Database(path);
      try {
        other.exec('ALTER TABLE es_events RENAME TO es_events_gone');
      } finally {
        other.close();
      }

      await expect(withTimeout(iteration, 5_000)).rejects.toBeInstanceOf(SubscriptionDroppedError);
    });
  });

  describe('close', () => {
    it('commits appends already queued, refuses new ones and ends subscriptions', async () => {
      const store = open();
      const subscription = store.subscribeToAll({});
      const iteration = drain(subscription);
      await subscription.caughtUp;
      const queued = store.append('order-1', [event()], { expectedRevision: 'no_stream' });

      await store.close();

      await expect(queued).resolves.toMatchObject({ nextExpectedRevision: 0 });
      await expect(store.append('order-2', [event()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
        EventStoreUnavailableError,
      );
      await expect(store.readAll()).rejects.toBeInstanceOf(EventStoreUnavailableError);
      await withTimeout(iteration, 5_000);

      const reopened = open();
      expect(await reopened.readStream('order-1')).toHaveLength(1);
    });
  });
});

async function drain(subscription: EventSubscription): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const stored of subscription) events.push(stored);
  return events;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Another connection to the file, as another process would have, appending one event row by hand. */
/**
 * Another connection's write, as another process makes it: the store checks
 * for such writes once per turn of the event loop, and another process's
 * write always reaches this one in a later turn, so the next turn is awaited.
 */
async function appendRowThroughAnotherConnection(path: string, streamName: string, revision: number, synchronous = 'FULL'): Promise<void> {
  const db = new Database(path);
  try {
    db.pragma(`synchronous = ${synchronous}`);
    db.prepare(
      'INSERT INTO es_events (event_id, stream_name, stream_revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(randomUUID(), streamName, revision, 'ThingHappened', '{}', '{}', Date.now());
  } finally {
    db.close();
  }
  await new Promise((resolve) => setImmediate(resolve));
}

/** Holds every fsync of the store back until released, one at a time, in the order they were asked for. */
function holdFsync(): { held(): number; release(): void; restore(): void } {
  const realFsync = fs.fsync;
  const waiting: Array<() => void> = [];
  const spy = jest
    .spyOn(fs, 'fsync')
    .mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      waiting.push(() => realFsync(fd, callback));
    }) as typeof fs.fsync);
  return {
    held: () => waiting.length,
    release: () => waiting.shift()?.(),
    restore: () => {
      spy.mockRestore();
      for (const run of waiting.splice(0)) run();
    },
  };
}
