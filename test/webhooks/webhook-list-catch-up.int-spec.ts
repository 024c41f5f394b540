import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toNewEvents, type CommandOrigin } from '@aftersales/application';
import { InMemoryEventStore } from '@aftersales/event-store/testing';
import { WebhookPlanner, WebhookStore } from '@aftersales/scheduling';
import { WebhookSubscriptions } from '../../apps/api/src/webhooks/webhook-subscriptions';

// GET /v1/webhooks after a POST or DELETE: the list waits for the webhook
// reactor to take in the subscription changes made before it, and for
// nothing else. Two API processes and the reactor, each with a connection of
// its own to one SQLite file; the reactor is driven by hand here, so what it
// has taken in is exactly what the test says.

const ADMIN = { role: 'admin', id: 'a-webhooks' } as const;
const origin = (): CommandOrigin => ({ actor: ADMIN, channel: 'api', correlationId: randomUUID() });
const hook = { url: 'https://hooks.example.com/in', events: ['CaseClosed'], secret: 'sixteen-chars-secret' };

describe('webhook list after a subscription change', () => {
  let dir: string;
  let events: InMemoryEventStore;
  const opened: WebhookStore[] = [];
  let reactorStore: WebhookStore;
  let planner: WebhookPlanner;
  let taken = 0;
  /** Two API processes on the one file. */
  let writer: WebhookSubscriptions;
  let reader: WebhookSubscriptions;

  const open = () => {
    const store = new WebhookStore(join(dir, 'aftersales.db'));
    opened.push(store);
    return store;
  };

  /** The reactor takes in the log up to `position`, in one batch, as its follower would. */
  async function reactorTakesIn(position: number): Promise<void> {
    const batch = (await events.readAll({ after: taken, maxCount: 10_000 })).filter((e) => e.position <= position);
    planner.apply(batch, position);
    taken = position;
  }

  /** An event no webhook reads, appended after the change: it moves the head of the log. */
  const unrelatedEvent = async () =>
    (await events.append(`aftersales-c-${randomUUID()}`, toNewEvents([{ type: 'DeadlineSet', data: {} }], origin(), new Date()), { expectedRevision: 'any' })).position;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'webhook-list-'));
    events = new InMemoryEventStore();
    reactorStore = open();
    // A checkpoint that moved with nothing written is stored a minute later at the earliest: only batches that change something are stored at once.
    planner = new WebhookPlanner(reactorStore, Date.now, { checkpointEveryMs: 60_000 });
    taken = planner.resume();
    writer = new WebhookSubscriptions(events, open());
    reader = new WebhookSubscriptions(events, open());
  });

  afterEach(async () => {
    planner.flush();
    for (const store of opened.splice(0)) store.close();
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers at once when the reactor has taken in the subscription, however far the log has moved on since', async () => {
    const created = await writer.subscribe(hook, origin(), new Date());
    const subscribedAt = await events.headPosition();
    // Events after it that the reactor has not taken in (its checkpoint for them would be stored up to a minute later).
    await unrelatedEvent();
    await unrelatedEvent();
    await reactorTakesIn(subscribedAt);

    const asked = Date.now();
    const listed = await reader.list();
    expect(Date.now() - asked).toBeLessThan(500);
    expect(listed).toEqual([created]);
  });

  it('waits for a subscription the reactor has not taken in yet, then shows it', async () => {
    const created = await writer.subscribe(hook, origin(), new Date());
    const subscribedAt = await events.headPosition();
    const asked = Date.now();
    const listing = reader.list();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await reactorTakesIn(subscribedAt);
    expect(await listing).toEqual([created]);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(200);
  });

  it('a cancelled subscription is gone from the next list, from any API process, once the reactor has taken in the cancellation', async () => {
    const kept = await writer.subscribe(hook, origin(), new Date());
    const cancelled = await writer.subscribe({ ...hook, url: 'https://hooks.example.com/other' }, origin(), new Date());
    await reactorTakesIn(await events.headPosition());
    expect(await reader.list()).toEqual([kept, cancelled]);

    await reader.cancel(cancelled.webhookId, origin(), new Date());
    const cancelledAt = await events.headPosition();
    await unrelatedEvent();
    const listing = writer.list();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await reactorTakesIn(cancelledAt);
    expect(await listing).toEqual([kept]);
  });
});
