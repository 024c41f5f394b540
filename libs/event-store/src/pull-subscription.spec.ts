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

const BATCH = 10;

/** A log of `length` events at positions 1..length; `keep` filters them as a type filter would, the read still reporting how far it looked. */
function subscriptionOver(length: number, keep: (position: number) => boolean = () => true): PullSubscription {
  return new PullSubscription({
    after: 0,
    batchSize: BATCH,
    pollIntervalMs: 60_000,
    read: (position, maxCount) => {
      const upTo = Math.min(length, position + BATCH);
      const events: StoredEvent[] = [];
      for (let p = position + 1; p <= upTo && events.length < maxCount; p++) {
        if (keep(p)) events.push({ position: p, streamName: 's', revision: p, id: `e${p}`, type: 'T', data: {}, metadata: {}, recordedAt: new Date(0) } as unknown as StoredEvent);
      }
      return { events, scannedTo: upTo, reachedEnd: upTo >= length };
    },
    onClose: () => undefined,
  });
}

/** Positions at which the event loop had run a callback scheduled before iterating (setImmediate: one turn of the loop). */
async function turnsSeen(subscription: PullSubscription, last: number): Promise<number[]> {
  const seenAt: number[] = [];
  let position = 0;
  let turns = 0;
  const tick = (): void => {
    turns += 1;
    seenAt.push(position);
    if (position < last) setImmediate(tick);
  };
  setImmediate(tick);
  const done = (async () => {
    for await (const event of subscription) {
      position = event.position;
      if (position >= last) return;
    }
  })();
  await done;
  await subscription.close();
  return turns > 0 ? seenAt : [];
}

describe('PullSubscription catching up', () => {
  it('gives the event loop a turn between batches instead of reading the whole backlog in one go', async () => {
    const seenAt = await turnsSeen(subscriptionOver(5 * BATCH), 5 * BATCH);
    // A turn ran before the last batch was read: the catch-up did not hold the loop from start to end.
    expect(seenAt.some((position) => position > 0 && position < 5 * BATCH)).toBe(true);
  });

  it('does so too while a filter passes over windows with nothing to yield', async () => {
    // Only the last event matches: every earlier read yields nothing but moves the checkpoint.
    const last = 8 * BATCH;
    const subscription = subscriptionOver(last, (p) => p === last);
    let checkpoint = 0;
    let done = false;
    let turnsDuringScan = 0;
    subscription.onCheckpoint((position) => (checkpoint = position));
    const tick = (): void => {
      if (checkpoint > 0) turnsDuringScan += 1;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    for await (const event of subscription) if (event.position === last) break;
    done = true;
    await subscription.close();
    expect(turnsDuringScan).toBeGreaterThan(0);
  });
});
