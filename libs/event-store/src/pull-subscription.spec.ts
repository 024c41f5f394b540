import type { StoredEvent } from './event-store';
import { PullSubscription } from './pull-subscription';

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
      return { events, scannedTo: upTo };
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
