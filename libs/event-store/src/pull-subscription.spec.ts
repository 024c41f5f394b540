import type { StoredEvent } from './event-store';
import { PullSubscription } from './pull-subscription';

const event = (position: number): StoredEvent => ({
  id: `e-${position}`,
  streamName: 'case-1',
  type: 'ReturnRequested',
  data: {},
  metadata: {},
  revision: position - 1,
  position,
  recordedAt: new Date(0),
});

/** Lets every pending promise callback and immediate run, so the subscription does all it would do unprompted. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A log in memory; `reads` counts how often the subscription looked at it. */
function log(initial: number[], batchSize = 100) {
  const events: StoredEvent[] = initial.map(event);
  let reads = 0;
  const subscription = new PullSubscription({
    after: 0,
    batchSize,
    // Never reached in these tests: only notify() wakes the subscription.
    pollIntervalMs: 60_000,
    read: (position, maxCount) => {
      reads++;
      const found = events.filter((e) => e.position > position).slice(0, maxCount);
      const scannedTo = found.length > 0 ? found[found.length - 1].position : position;
      return { events: found, scannedTo, reachedEnd: found.length < maxCount };
    },
    onClose: () => undefined,
  });
  const received: number[] = [];
  let consumed: (() => void) | undefined;
  const consuming = (async () => {
    for await (const e of subscription) {
      received.push(e.position);
      consumed?.();
    }
  })();
  return {
    subscription,
    received,
    consuming,
    get reads() {
      return reads;
    },
    add: (...positions: number[]) => events.push(...positions.map(event)),
    /** Runs `during` the next time the consumer takes an event, before the subscription reads on. */
    whileConsuming: (during: () => void) => {
      consumed = () => {
        consumed = undefined;
        during();
      };
    },
  };
}

describe('PullSubscription', () => {
  it('does not read again after a read that reached the log end, until a commit notifies it', async () => {
    const l = log([1, 2, 3]);
    await l.subscription.caughtUp;
    await settle();
    expect(l.received).toEqual([1, 2, 3]);
    // One read found the three events and reached the end: no second read to prove it.
    expect(l.reads).toBe(1);

    l.add(4);
    l.subscription.notify();
    await settle();
    expect(l.received).toEqual([1, 2, 3, 4]);
    expect(l.reads).toBe(2);
    await l.subscription.close();
    await l.consuming;
  });

  it('reads on at once when a read was cut short by its batch size', async () => {
    const l = log([1, 2, 3], 2);
    await l.subscription.caughtUp;
    await settle();
    expect(l.received).toEqual([1, 2, 3]);
    expect(l.reads).toBe(2);
    await l.subscription.close();
    await l.consuming;
  });

  it('keeps a notify that came while the events were being handed over, and reads again before waiting', async () => {
    const l = log([]);
    await l.subscription.caughtUp;
    l.add(1);
    // The commit of event 2 lands after the read that found event 1, and notifies while nobody waits.
    l.whileConsuming(() => {
      l.add(2);
      l.subscription.notify();
    });
    l.subscription.notify();
    await settle();
    expect(l.received).toEqual([1, 2]);
    await l.subscription.close();
    await l.consuming;
  });
});
