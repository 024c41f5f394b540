import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import {
  EventStoreDbEventStore,
  EventStoreUnavailableError,
  InvalidEventError,
  InvalidStreamNameError,
  SubscriptionDroppedError,
  type NewEvent,
} from '@aftersales/event-store';

// What the EventStoreDB adapter does with no server at all: callers get the
// neutral unavailable error, and malformed input is refused before any call.

const event = (): NewEvent => ({ id: randomUUID(), type: 'ThingHappened', data: {}, metadata: {} });

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('EventStoreDbEventStore without a server', () => {
  let store: EventStoreDbEventStore;

  beforeEach(async () => {
    store = new EventStoreDbEventStore({ connectionString: `esdb://127.0.0.1:${await closedPort()}?tls=false` });
  });

  afterEach(async () => {
    await store.close();
  });

  it('maps connection failures to EventStoreUnavailableError', async () => {
    await expect(store.append('order-1', [event()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
      EventStoreUnavailableError,
    );
    await expect(store.readStream('order-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.readAll({ maxCount: 10 })).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.headPosition()).rejects.toMatchObject({ code: 'EVENT_STORE_UNAVAILABLE' });
  });

  it('drops a subscription, and fails its caughtUp, with EventStoreUnavailableError as the cause', async () => {
    const subscription = store.subscribeToAll({});
    const iteration = (async () => {
      for await (const _ of subscription) {
        // nothing arrives
      }
    })();

    await expect(iteration).rejects.toBeInstanceOf(SubscriptionDroppedError);
    await expect(subscription.caughtUp).rejects.toBeInstanceOf(SubscriptionDroppedError);
    await expect(subscription.caughtUp).rejects.toMatchObject({ cause: expect.any(EventStoreUnavailableError) });
  });

  it('refuses malformed input before calling the server', async () => {
    await expect(store.append('Order-1', [event()], { expectedRevision: 'any' })).rejects.toBeInstanceOf(
      InvalidStreamNameError,
    );
    await expect(
      store.append('order-1', [{ ...event(), data: { n: 1n } }], { expectedRevision: 'any' }),
    ).rejects.toBeInstanceOf(InvalidEventError);
  });

  it('refuses work once closed', async () => {
    await store.close();
    await expect(store.readStream('order-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
  });
});
