import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { SqliteEventStore } from '@aftersales/event-store';

/**
 * The notice a durable commit sends to the other stores on the file wakes
 * every thread that has one: a busy store sends at most one per 20 ms, and a
 * commit after a quiet spell is told at once rather than after a delay.
 */
describe('SqliteEventStore: commit notices to other stores on the file', () => {
  let dir: string;
  let store: SqliteEventStore;
  let listener: BroadcastChannel;
  const noticesAt: number[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'commit-notice-'));
    const path = join(dir, 'events.db');
    store = new SqliteEventStore({ path });
    // The channel the store's siblings listen on (the store's own naming).
    listener = new BroadcastChannel(`aftersales-event-store:${resolve(path)}`);
    noticesAt.length = 0;
    listener.onmessage = () => noticesAt.push(performance.now());
  });
  afterEach(async () => {
    listener.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const appendOne = (stream: string) =>
    store.append(stream, [{ id: randomUUID(), type: 'ReturnRequested', data: {}, metadata: {} }], { expectedRevision: 'any' });
  const settle = () => new Promise((r) => setTimeout(r, 100));

  it('sends at most one notice per 20 ms while commits keep coming', async () => {
    const started = performance.now();
    let appended = 0;
    while (performance.now() - started < 400) {
      await Promise.all(Array.from({ length: 5 }, (_, i) => appendOne(`case-${i}`)));
      appended += 5;
    }
    const elapsed = performance.now() - started;
    await settle();
    expect(appended).toBeGreaterThan(50);
    expect(noticesAt.length).toBeGreaterThan(0);
    expect(noticesAt.length).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 2);
    for (let i = 1; i < noticesAt.length; i++) expect(noticesAt[i] - noticesAt[i - 1]).toBeGreaterThan(15);
  });

  it('tells a commit after a quiet spell at once: the notice leaves before the append is answered', async () => {
    await appendOne('case-a');
    await settle();
    const before = noticesAt.length;
    let noticeLeft = false;
    // The store posts, then answers its caller; the post itself is what is looked for here.
    const post = BroadcastChannel.prototype.postMessage;
    const spy = jest.spyOn(BroadcastChannel.prototype, 'postMessage').mockImplementation(function (this: BroadcastChannel, message: unknown) {
      noticeLeft = true;
      return post.call(this, message);
    });
    try {
      await appendOne('case-b');
      expect(noticeLeft).toBe(true);
    } finally {
      spy.mockRestore();
    }
    await settle();
    expect(noticesAt.length).toBe(before + 1);
  });
});
