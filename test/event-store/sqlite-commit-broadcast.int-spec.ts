import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SqliteEventStore, type StoredEvent } from '@aftersales/event-store';

/**
 * `npm start` runs the worker and the projector in threads of their own,
 * each with its own store on the one file. A durable commit by one store is
 * told to the others at once; they do not wait for their next poll.
 */
describe('SqliteEventStore: other stores on the same file in this process', () => {
  let dir: string;
  const stores: SqliteEventStore[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'commit-broadcast-'));
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (path: string): SqliteEventStore => {
    // A poll so slow that only the commit notice can deliver within the test.
    const store = new SqliteEventStore({ path, pollIntervalMs: 60_000 });
    stores.push(store);
    return store;
  };

  it('wakes a subscription of another store on the same file as soon as an append is durable', async () => {
    const path = join(dir, 'events.db');
    const writer = open(path);
    const reader = open(path);
    const subscription = reader.subscribeToAll();
    const received: StoredEvent[] = [];
    const iterating = (async () => {
      for await (const event of subscription) {
        received.push(event);
        if (received.length === 1) return;
      }
    })();
    await subscription.caughtUp;

    const sentAt = Date.now();
    await writer.append('case-1', [{ id: randomUUID(), type: 'ReturnRequested', data: { caseId: '1' }, metadata: {} }], { expectedRevision: 'no_stream' });
    await iterating;
    expect(received.map((event) => event.streamName)).toEqual(['case-1']);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    await subscription.close();
  });

  it('tells only stores on the same file', async () => {
    const reader = open(join(dir, 'a.db'));
    const other = open(join(dir, 'b.db'));
    const subscription = reader.subscribeToAll();
    let received = 0;
    const iterating = (async () => {
      for await (const event of subscription) if (event) received++;
    })();
    await subscription.caughtUp;
    await other.append('case-2', [{ id: randomUUID(), type: 'ReturnRequested', data: { caseId: '2' }, metadata: {} }], { expectedRevision: 'no_stream' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toBe(0);
    await subscription.close();
    await iterating;
  });
});
