import { randomUUID } from 'node:crypto';
import type { EventStoreDBClient } from '@eventstore/db-client';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import type { NewEvent } from './event-store';
import { describeEventStoreContract } from './testing/contract';
import { FakeEventStoreDbClient } from './testing/fake-eventstoredb-client';

// The adapter's own logic (revision mapping, paging past system events,
// checkpoints, catch-up with and without the server's caughtUp signal) run
// through the contract against an in-memory model of the server. The real
// server runs the same contract in test/event-store when one is configured.

const storeOn = (client: FakeEventStoreDbClient): EventStoreDbEventStore =>
  new EventStoreDbEventStore({ client: client as unknown as EventStoreDBClient });

describe.each([
  ['a server that signals caughtUp', true],
  ['a server older than 23.10 (no caughtUp signal)', false],
])('EventStoreDB adapter on a model of %s', (_server, sendsCaughtUp) => {
  describeEventStoreContract('EventStoreDB (in-memory model)', async () => {
    const store = storeOn(new FakeEventStoreDbClient({ sendsCaughtUp }));
    return { store, cleanup: () => store.close() };
  });
});

describe('EventStoreDB adapter and system events', () => {
  const event = (): NewEvent => ({ id: randomUUID(), type: 'ThingHappened', data: {}, metadata: {} });
  let client: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;

  beforeEach(() => {
    client = new FakeEventStoreDbClient({ sendsCaughtUp: true });
    store = storeOn(client);
  });

  afterEach(() => store.close());

  it('fills a readAll batch past pages made only of system events', async () => {
    const first = await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
    client.writeSystemEvents(50);
    const second = event();
    await store.append('order-1', [second], { expectedRevision: 0 });

    const batch = await store.readAll({ after: first.position, maxCount: 1 });

    expect(batch.map((e) => e.id)).toEqual([second.id]);
  });

  it('reports the last non-system event as the head', async () => {
    const appended = await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
    client.writeSystemEvents(250);

    expect(await store.headPosition()).toBe(appended.position);
  });

  it('reports an empty head when only system events exist', async () => {
    client.writeSystemEvents(150);

    expect(await store.headPosition()).toBe(0);
  });
});
