import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { SqliteEventStore, type StoredEvent } from '@aftersales/event-store';

/**
 * Stores on one file in one process (the roles `npm start` runs on threads
 * of their own) hear of each other's commits through commit counters in
 * shared memory, exchanged once: a commit posts no message (posting waits on
 * the receiving threads' locks), and a sibling's subscription still wakes
 * within milliseconds, not at its next poll.
 */
describe('SqliteEventStore: commits heard by the other stores on the file', () => {
  let dir: string;
  const stores: SqliteEventStore[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sibling-commits-'));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(stores.splice(0).map((store) => store.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  // A poll so slow that only hearing of the commit can deliver within the test.
  const open = (path: string): SqliteEventStore => {
    const store = new SqliteEventStore({ path, pollIntervalMs: 60_000 });
    stores.push(store);
    return store;
  };
  const appendOne = (store: SqliteEventStore, stream: string) =>
    store.append(stream, [{ id: randomUUID(), type: 'ReturnRequested', data: {}, metadata: {} }], { expectedRevision: 'any' });
  const turns = (n: number) => new Promise((resolve) => setTimeout(resolve, n));

  it('posts no message for a commit', async () => {
    const path = join(dir, 'events.db');
    const writer = open(path);
    open(path).subscribeToAll();
    await turns(50);
    const posted = jest.spyOn(BroadcastChannel.prototype, 'postMessage');
    for (let i = 0; i < 20; i++) await appendOne(writer, `case-${i}`);
    expect(posted).not.toHaveBeenCalled();
  });

  it("wakes a sibling's subscription within milliseconds, also for a commit made before the two had met", async () => {
    const path = join(dir, 'events.db');
    const writer = open(path);
    // Appended at once, before any message between the two could be delivered.
    const reader = open(path);
    await appendOne(writer, 'case-early');
    const subscription = reader.subscribeToAll();
    const received: StoredEvent[] = [];
    const iterating = (async () => {
      for await (const event of subscription) {
        received.push(event);
        if (received.length === 2) return;
      }
    })();
    await subscription.caughtUp;
    const sentAt = Date.now();
    await appendOne(writer, 'case-late');
    await iterating;
    expect(received.map((event) => event.streamName)).toEqual(['case-early', 'case-late']);
    expect(Date.now() - sentAt).toBeLessThan(2_000);
    await subscription.close();
  });

  it('wakes a subscription after a quiet spell too', async () => {
    const path = join(dir, 'events.db');
    const writer = open(path);
    const reader = open(path);
    const subscription = reader.subscribeToAll();
    const received: StoredEvent[] = [];
    const iterating = (async () => {
      for await (const event of subscription) {
        received.push(event);
        return;
      }
    })();
    await subscription.caughtUp;
    // Long enough for the reader to stop looking at the writer's counter: only the writer's wake-up message can tell it.
    await turns(2_500);
    const sentAt = Date.now();
    await appendOne(writer, 'case-after-quiet');
    await iterating;
    expect(received).toHaveLength(1);
    expect(Date.now() - sentAt).toBeLessThan(2_000);
    await subscription.close();
  });
});
