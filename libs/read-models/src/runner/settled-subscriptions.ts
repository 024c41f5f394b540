import type { EventStore, EventSubscription, SubscribeToAllOptions } from '@aftersales/event-store';

/**
 * The event store as the runner's LogFollower sees it: subscriptions whose
 * `caughtUp` never rejects. LogFollower chains `.then` on it without a
 * rejection handler, and a subscription closed before it caught up (a stop
 * during the catch-up, a failed batch) rejects it: an unhandled rejection,
 * which ends a Node process. Here it simply never settles in that case.
 */
export function withSettledSubscriptions(store: EventStore): EventStore {
  return {
    append: (...args) => store.append(...args),
    readStream: (...args) => store.readStream(...args),
    readAll: (...args) => store.readAll(...args),
    headPosition: () => store.headPosition(),
    durable: () => store.durable(),
    close: () => store.close(),
    subscribeToAll(options: SubscribeToAllOptions): EventSubscription {
      const subscription = store.subscribeToAll(options);
      const caughtUp = subscription.caughtUp.catch(() => new Promise<void>(() => undefined));
      return {
        caughtUp,
        onCheckpoint: (listener) => subscription.onCheckpoint(listener),
        close: () => subscription.close(),
        [Symbol.asyncIterator]: () => subscription[Symbol.asyncIterator](),
      };
    },
  };
}
