import { randomUUID } from 'node:crypto';
import { EVENT_TYPE, type EventStoreDBClient, type Filter } from '@eventstore/db-client';
import { ConcurrencyError, EventStoreUnavailableError, StreamDeletedError, SubscriptionDroppedError } from './errors';
import { EventStoreDbEventStore } from './eventstoredb-event-store';
import type { EventSubscription, NewEvent, StoredEvent } from './event-store';
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

describe('EventStoreDB adapter subscriptions', () => {
  const event = (type = 'ThingHappened'): NewEvent => ({ id: randomUUID(), type, data: {}, metadata: {} });
  let client: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  beforeEach(() => {
    client = new FakeEventStoreDbClient({ sendsCaughtUp: true });
    store = storeOn(client);
  });

  afterEach(() => store.close());

  async function appendMany(streamName: string, count: number, type = 'ThingHappened'): Promise<void> {
    for (let first = 0; first < count; first += 100) {
      const events = Array.from({ length: Math.min(100, count - first) }, () => event(type));
      await store.append(streamName, events, { expectedRevision: first === 0 ? 'no_stream' : first - 1 });
    }
  }

  async function drain(subscription: EventSubscription): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    for await (const stored of subscription) events.push(stored);
    return events;
  }

  it('resolves caughtUp only after the events still in the client\'s buffer after a pause reached the consumer', async () => {
    // 1,000 fill the adapter's queue and pause the client; the last ten sit in its buffer when the server says caught up.
    const total = 1_010;
    await appendMany('order-1', total);
    const subscription = store.subscribeToAll({});
    let received = 0;
    let receivedAtCaughtUp = -1;
    void subscription.caughtUp.then(() => (receivedAtCaughtUp = received));
    const consuming = (async () => {
      for await (const _ of subscription) {
        received++;
        // Hold the first event until back-pressure reaches the client.
        while (received === 1 && !client.anySubscriptionPaused) await turn();
      }
    })();

    await subscription.caughtUp;
    expect(receivedAtCaughtUp).toBe(total);
    await subscription.close();
    await consuming;
  });

  it('asks the server to filter by event type, with checkpoints, and reports them past long stretches of other events', async () => {
    const subscribe = jest.spyOn(client, 'subscribeToAll');
    await appendMany('order-1', 1_200, 'Other');
    const wanted = event('Wanted');
    await store.append('order-2', [wanted], { expectedRevision: 'no_stream' });

    const subscription = store.subscribeToAll({ eventTypes: ['Wanted', 'Also.Wanted'] });
    const checkpoints: number[] = [];
    subscription.onCheckpoint((position) => checkpoints.push(position));
    const iteration = drain(subscription);
    await subscription.caughtUp;
    await subscription.close();

    expect((await iteration).map((e) => e.id)).toEqual([wanted.id]);
    const filter = subscribe.mock.calls[0][0]?.filter as Filter & { regex: string };
    expect(filter.filterOn).toBe(EVENT_TYPE);
    expect(new RegExp(filter.regex).test('Wanted')).toBe(true);
    expect(new RegExp(filter.regex).test('Also.Wanted')).toBe(true);
    expect(new RegExp(filter.regex).test('AlsoxWanted')).toBe(false);
    expect(new RegExp(filter.regex).test('Other')).toBe(false);
    expect(new RegExp(filter.regex).test('WantedNot')).toBe(false);
    expect(filter.maxSearchWindow).toBeGreaterThan(0);
    expect(filter.checkpointReached).toEqual(expect.any(Function));
    // Checkpoints came from the server while it looked through the 1,200 others, before the wanted event.
    const [head] = (await store.readStream('order-2')).map((e) => e.position);
    expect(checkpoints.filter((position) => position < head).length).toBeGreaterThanOrEqual(2);
  });

  it('throws SubscriptionDroppedError from the iterator when the server drops the subscription, and ends normally when closed', async () => {
    await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
    const dropped = store.subscribeToAll({});
    const closed = store.subscribeToAll({});
    const droppedIteration = drain(dropped);
    const closedIteration = drain(closed);
    await Promise.all([dropped.caughtUp, closed.caughtUp]);

    await closed.close();
    await expect(closedIteration).resolves.toHaveLength(1);
    client.dropSubscriptions();
    await expect(droppedIteration).rejects.toBeInstanceOf(SubscriptionDroppedError);
  });

  it('drops a subscription when the connection is lost, with the unavailable error as its cause; a new one works after reconnecting', async () => {
    await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
    const subscription = store.subscribeToAll({});
    const iteration = drain(subscription);
    await subscription.caughtUp;

    client.disconnect();
    const error = await iteration.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(SubscriptionDroppedError);
    expect((error as Error).cause).toBeInstanceOf(EventStoreUnavailableError);

    client.reconnect();
    const again = store.subscribeToAll({});
    const received = (async () => {
      for await (const stored of again) return stored;
      return undefined;
    })();
    await expect(received).resolves.toMatchObject({ streamName: 'order-1' });
  });

  it('refuses appends and reads of a deleted stream with StreamDeletedError', async () => {
    await store.append('order-1', [event()], { expectedRevision: 'no_stream' });
    client.tombstone('order-1');

    await expect(store.append('order-1', [event()], { expectedRevision: 'any' })).rejects.toBeInstanceOf(StreamDeletedError);
    await expect(store.readStream('order-1')).rejects.toMatchObject({ code: 'STREAM_DELETED', stream: 'order-1' });
  });
});

describe('EventStoreDB adapter on a client that reports failed appends instead of throwing', () => {
  const event = (): NewEvent => ({ id: randomUUID(), type: 'ThingHappened', data: {}, metadata: {} });

  it('turns an unsuccessful append result into ConcurrencyError', async () => {
    const store = storeOn(new FakeEventStoreDbClient({ sendsCaughtUp: true, throwOnAppendFailure: false }));
    try {
      await store.append('order-1', [event()], { expectedRevision: 'no_stream' });

      await expect(store.append('order-1', [event()], { expectedRevision: 'no_stream' })).rejects.toMatchObject({
        constructor: ConcurrencyError,
        actual: 0,
      });
      await expect(store.append('order-2', [event()], { expectedRevision: 3 })).rejects.toMatchObject({ actual: 'no_stream' });
      expect(await store.readStream('order-1')).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
