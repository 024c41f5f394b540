import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '@aftersales/event-store';
import { PullSubscription } from '../../libs/event-store/src/pull-subscription';

/**
 * A busy store wakes its own subscriptions (each wake-up is a read of the
 * log) at most once per 5 ms, and a commit after a quiet spell at once.
 */
describe('SqliteEventStore: waking its subscriptions', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'subscription-wakeups-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 60_000 });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const appendOne = (stream: string) => store.append(stream, [{ id: randomUUID(), type: 'ReturnRequested', data: {}, metadata: {} }], { expectedRevision: 'any' });

  it('wakes them at most once per 5 ms while commits keep coming, and every event still arrives', async () => {
    const subscription = store.subscribeToAll();
    const appends = 150;
    let received = 0;
    const iterating = (async () => {
      for await (const event of subscription) if (event && ++received === appends) return;
    })();
    await subscription.caughtUp;
    const wakeups = jest.spyOn(PullSubscription.prototype, 'notify');
    // One append per millisecond, each its own commit, whatever the disk's pace.
    const started = performance.now();
    const appended: Array<Promise<unknown>> = [];
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        appended.push(appendOne(`case-${appended.length % 7}`));
        if (appended.length === appends) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await Promise.all(appended);
    await iterating;
    const elapsed = performance.now() - started;
    expect(received).toBe(appends);
    expect(store.groupCommitStats().batches).toBeGreaterThan(appends / 2);
    expect(wakeups.mock.calls.length).toBeLessThanOrEqual(Math.ceil(elapsed / 5) + 2);
    await subscription.close();
  });

  it('wakes them at once for a commit after a quiet spell', async () => {
    const subscription = store.subscribeToAll();
    const iterating = (async () => {
      for await (const event of subscription) if (event.streamName === 'case-b') return;
    })();
    await subscription.caughtUp;
    await appendOne('case-a');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const wakeups = jest.spyOn(PullSubscription.prototype, 'notify');
    await appendOne('case-b');
    expect(wakeups).toHaveBeenCalledTimes(1);
    await iterating;
    await subscription.close();
  });
});
