import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SqliteEventStore, type EventSubscription, type StoredEvent } from '@aftersales/event-store';

/**
 * Subscriptions of one store near the log's head read its new events
 * through one shared tail: each event read and parsed once, the same event
 * object handed to every subscription that wants it, and each still gets
 * exactly its events, in order, whether it follows the head or catches up
 * from far back.
 */
describe('SqliteEventStore: subscriptions share the log tail', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'log-tail-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 60_000 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const TYPES = ['ReturnRequested', 'MerchantAgreed', 'RefundIssued'];

  /** `count` events of the three types over seven streams, appended `perBatch` at a time (each batch one commit or a few). */
  async function appendEvents(count: number, perBatch = 50): Promise<void> {
    for (let done = 0; done < count; done += perBatch) {
      await Promise.all(
        Array.from({ length: Math.min(perBatch, count - done) }, (_, i) =>
          store.append(`case-${(done + i) % 7}`, [{ id: randomUUID(), type: TYPES[(done + i) % 3], data: { n: done + i }, metadata: {} }], {
            expectedRevision: 'any',
          }),
        ),
      );
    }
  }

  /** Collects a subscription's events until it has `count` of them. */
  function collect(subscription: EventSubscription, count: number): Promise<StoredEvent[]> {
    return (async () => {
      const events: StoredEvent[] = [];
      if (count === 0) return events;
      for await (const event of subscription) {
        events.push(event);
        if (events.length === count) break;
      }
      return events;
    })();
  }

  async function everyEvent(): Promise<StoredEvent[]> {
    const all: StoredEvent[] = [];
    for (;;) {
      const page = await store.readAll({ after: all.length > 0 ? all[all.length - 1].position : 0, maxCount: 1000 });
      if (page.length === 0) return all;
      all.push(...page);
    }
  }

  const positions = (events: StoredEvent[]) => events.map((e) => e.position);

  it('hands subscriptions following the head the same event objects, each only the types it asked for', async () => {
    await appendEvents(30);
    const head = await store.headPosition();
    const whole = store.subscribeToAll({ after: head });
    const agreed = store.subscribeToAll({ after: head, eventTypes: ['MerchantAgreed'] });
    const money = store.subscribeToAll({ after: head, eventTypes: ['MerchantAgreed', 'RefundIssued'] });
    const gotWhole = collect(whole, 600);
    const gotAgreed = collect(agreed, 200);
    const gotMoney = collect(money, 400);
    await Promise.all([whole.caughtUp, agreed.caughtUp, money.caughtUp]);
    await appendEvents(600, 25);
    const [w, a, m] = await Promise.all([gotWhole, gotAgreed, gotMoney]);

    const expected = (await everyEvent()).filter((e) => e.position > head);
    expect(positions(w)).toEqual(positions(expected));
    expect(positions(a)).toEqual(positions(expected.filter((e) => e.type === 'MerchantAgreed')));
    expect(positions(m)).toEqual(positions(expected.filter((e) => e.type !== 'ReturnRequested')));
    expect(w.map((e) => e.data)).toEqual(expected.map((e) => e.data));
    // Read and parsed once: the very same objects.
    const byPosition = new Map(w.map((e) => [e.position, e]));
    for (const event of [...a, ...m]) expect(event).toBe(byPosition.get(event.position));
    await Promise.all([whole.close(), agreed.close(), money.close()]);
  });

  it('lets a subscription far behind catch up on its own reads while others follow the head, and loses nothing', async () => {
    await appendEvents(6_000, 500);
    const head = await store.headPosition();
    const fromStart = store.subscribeToAll({ eventTypes: ['RefundIssued'] });
    const nearHead = store.subscribeToAll({ after: head - 10 });
    const fromMiddle = store.subscribeToAll({ after: 2_500 });
    const expectedAfter = async (after: number, type?: string) => (await everyEvent()).filter((e) => e.position > after && (!type || e.type === type));
    const total = 6_000 + 900;
    const gotStart = collect(fromStart, total / 3);
    const gotHead = collect(nearHead, total - (head - 10));
    const gotMiddle = collect(fromMiddle, total - 2_500);
    // New events while the one from the start is still far behind.
    await appendEvents(900, 30);
    const [s, h, mid] = await Promise.all([gotStart, gotHead, gotMiddle]);
    expect(positions(s)).toEqual(positions(await expectedAfter(0, 'RefundIssued')));
    expect(positions(h)).toEqual(positions(await expectedAfter(head - 10)));
    expect(positions(mid)).toEqual(positions(await expectedAfter(2_500)));
    expect(s.every((e) => e.type === 'RefundIssued')).toBe(true);
    await Promise.all([fromStart.close(), nearHead.close(), fromMiddle.close()]);
  });

  it('moves a filtered subscription past events it does not want', async () => {
    await appendEvents(10);
    const head = await store.headPosition();
    const none = store.subscribeToAll({ after: head, eventTypes: ['CaseClosed'] });
    const whole = store.subscribeToAll({ after: head });
    const checkpoints: number[] = [];
    none.onCheckpoint((position) => checkpoints.push(position));
    const consumed = collect(none, 1);
    const gotWhole = collect(whole, 120);
    await Promise.all([none.caughtUp, whole.caughtUp]);
    await appendEvents(120, 40);
    await gotWhole;
    const newHead = await store.headPosition();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Math.max(...checkpoints)).toBe(newHead);
    await Promise.all([none.close(), whole.close()]);
    await consumed;
  });
});
