import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { StoredEvent } from '@aftersales/event-store';
import { WEBHOOK_EVENT_TYPES } from './webhook-events';
import { WEBHOOK_CHECKPOINT, WebhookPlanner } from './webhook-planner';
import { WebhookStore, type Chain } from './webhook-store';

// The planner and the delivery table on an in-memory SQLite database: which
// events become deliveries, chain heads, compare-and-set on attempts.

let position = 0;
const event = (streamName: string, type: string, data: unknown = {}): StoredEvent => ({
  id: randomUUID(),
  streamName,
  type,
  data,
  metadata: { occurredAt: '2025-03-01T08:00:00.000Z' },
  revision: 0,
  position: ++position,
  recordedAt: new Date('2025-03-01T08:00:00.000Z'),
});
const subscribed = (webhookId: string, events: string[]) =>
  event(`webhook-${webhookId}`, WEBHOOK_EVENT_TYPES.subscribed, { webhookId, url: 'https://hooks.example.com/x', events, secret: 'sixteen-chars-secret' });

describe('WebhookPlanner and WebhookStore', () => {
  let store: WebhookStore;
  let planner: WebhookPlanner;
  const apply = (events: StoredEvent[]) => planner.apply(events, events.at(-1)!.position);

  beforeEach(() => {
    position = 0;
    store = new WebhookStore(':memory:');
    planner = new WebhookPlanner(store, () => 1000);
  });
  afterEach(() => store.close());

  it('makes one delivery per matching subscription for case events after the subscription, and none for other streams', () => {
    const before = event('aftersales-c1', 'ReturnRequested');
    const chains = apply([before, subscribed('w1', ['ReturnRequested']), subscribed('w2', ['ReturnRequested', 'CaseClosed']), event('aftersales-c1', 'ReturnRequested'), event('order-o1', 'ReturnRequested'), event('aftersales-c1', 'CaseClosed'), event('aftersales-c1', 'DeadlineSet')]);
    expect(chains).toEqual(expect.arrayContaining<Chain>([{ webhookId: 'w1', caseId: 'c1' }, { webhookId: 'w2', caseId: 'c1' }]));
    expect(store.counts()).toEqual({ pending: 3, delivered: 0, dead: 0 });
    expect(store.head({ webhookId: 'w2', caseId: 'c1' })).toMatchObject({ deliveryId: 'w2-4', type: 'ReturnRequested', attempts: 0, round: 0, nextAttemptAt: 1000 });
    expect(JSON.parse(store.head({ webhookId: 'w1', caseId: 'c1' })!.body)).toEqual({ eventId: expect.any(String), type: 'ReturnRequested', caseId: 'c1', position: 4, occurredAt: '2025-03-01T08:00:00.000Z', data: {} });
    expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(7);
    expect(store.listSubscriptions()).toEqual([
      { webhookId: 'w1', url: 'https://hooks.example.com/x', events: ['ReturnRequested'], createdAt: '2025-03-01T08:00:00.000Z' },
      { webhookId: 'w2', url: 'https://hooks.example.com/x', events: ['ReturnRequested', 'CaseClosed'], createdAt: '2025-03-01T08:00:00.000Z' },
    ]);
  });

  it('applies a batch once: the second time, and the part of a batch already applied, change nothing', () => {
    const first = [subscribed('w1', ['CaseNoteAdded']), event('aftersales-c1', 'CaseNoteAdded')];
    apply(first);
    expect(apply(first)).toBeUndefined();
    const overlapping = [...first, event('aftersales-c1', 'CaseNoteAdded')];
    apply(overlapping);
    expect(store.counts().pending).toBe(2);
  });

  it('keeps a chain behind its head; an attempt is recorded once; a dead head holds the chain until replayed', () => {
    apply([subscribed('w1', ['CaseNoteAdded']), event('aftersales-c1', 'CaseNoteAdded'), event('aftersales-c1', 'CaseNoteAdded')]);
    const chain = { webhookId: 'w1', caseId: 'c1' };
    const head = store.head(chain)!;
    expect(store.recordFailed(head, 'answered 503', 2000, 3000)).toBe(true);
    expect(store.recordFailed(head, 'answered 503', 2000, 3000)).toBe(false);
    const retried = store.head(chain)!;
    expect(retried).toMatchObject({ deliveryId: head.deliveryId, attempts: 1, nextAttemptAt: 3000, lastError: 'answered 503' });
    expect(store.recordFailed(retried, 'answered 410', 4000, undefined)).toBe(true);
    expect(store.head(chain)).toMatchObject({ deliveryId: head.deliveryId, status: 'dead', finishedAt: 4000 });
    expect(store.pendingHeads(undefined, 10)).toEqual([expect.objectContaining({ deliveryId: head.deliveryId, status: 'dead' })]);
    expect(store.deadLetters({ limit: 10 }).map((d) => d.deliveryId)).toEqual([head.deliveryId]);

    apply([event('webhook-w1', WEBHOOK_EVENT_TYPES.replayed, { webhookId: 'w1', deliveryId: head.deliveryId })]);
    const replayed = store.head(chain)!;
    expect(replayed).toMatchObject({ deliveryId: head.deliveryId, status: 'pending', attempts: 0, round: 1 });
    expect(store.recordDelivered(replayed, 5000)).toBe(true);
    expect(store.head(chain)).toMatchObject({ deliveryId: 'w1-3', status: 'pending' });
  });

  it('pages through every chain head in (webhook, case) order', () => {
    const events = [subscribed('w1', ['CaseNoteAdded']), subscribed('w2', ['CaseNoteAdded'])];
    for (let i = 0; i < 1200; i++) events.push(event(`aftersales-c${String(i).padStart(4, '0')}`, 'CaseNoteAdded'), event(`aftersales-c${String(i).padStart(4, '0')}`, 'CaseNoteAdded'));
    apply(events);
    const heads = [];
    let after: Chain | undefined;
    for (;;) {
      const page = store.pendingHeads(after, 1000);
      if (page.length === 0) break;
      heads.push(...page);
      after = page.at(-1);
    }
    expect(heads).toHaveLength(2400);
    expect(new Set(heads.map((h) => `${h.webhookId} ${h.caseId}`)).size).toBe(2400);
    // Each head is the first of its case's two events.
    expect(heads.every((h) => h.deliveryId === `${h.webhookId}-${Math.min(...events.filter((e) => e.streamName === `aftersales-${h.caseId}`).map((e) => e.position))}`)).toBe(true);
  });

  it('a cancelled webhook gets no more deliveries and owes none', () => {
    apply([subscribed('w1', ['CaseNoteAdded']), event('aftersales-c1', 'CaseNoteAdded')]);
    apply([event('webhook-w1', WEBHOOK_EVENT_TYPES.cancelled, { webhookId: 'w1' }), event('aftersales-c1', 'CaseNoteAdded')]);
    expect(store.counts()).toEqual({ pending: 0, delivered: 0, dead: 0 });
    expect(store.subscription('w1')).toBeUndefined();
    expect(store.listSubscriptions()).toEqual([]);
  });

  it('a WebhookSubscribed without a list of events subscribes nothing', () => {
    apply([event('webhook-w1', WEBHOOK_EVENT_TYPES.subscribed, { webhookId: 'w1', url: 'https://x', events: 'ReturnRequested', secret: 's' }), event('aftersales-c1', 'ReturnRequested')]);
    expect(store.listSubscriptions()).toEqual([]);
    expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(2);
  });

  it('prepares its statements once: reading, planning every kind of batch and recording attempts prepare nothing more', () => {
    const prepare = jest.spyOn(Database.prototype, 'prepare');
    try {
      planner.resume();
      apply([subscribed('w1', ['CaseNoteAdded']), event('aftersales-c1', 'CaseNoteAdded'), event('aftersales-c1', 'DeadlineSet')]);
      apply([event('aftersales-c2', 'DeadlineSet')]);
      const chain = { webhookId: 'w1', caseId: 'c1' };
      const head = store.head(chain)!;
      store.recordFailed(head, 'answered 410', 2000, undefined);
      apply([event('webhook-w1', WEBHOOK_EVENT_TYPES.replayed, { webhookId: 'w1', deliveryId: head.deliveryId })]);
      store.recordDelivered(store.head(chain)!, 3000);
      apply([event('webhook-w1', WEBHOOK_EVENT_TYPES.cancelled, { webhookId: 'w1' })]);
      store.checkpoint(WEBHOOK_CHECKPOINT);
      store.subscription('w1');
      store.listSubscriptions();
      store.delivery(head.deliveryId);
      store.pendingHeads(undefined, 10);
      store.deadLetters({ limit: 10 });
      store.deadLetters({ webhookId: 'w1', limit: 10 });
      store.counts();
      store.pruneDelivered(5000);
      expect(store.counts()).toEqual({ pending: 0, delivered: 0, dead: 0 });
      expect(prepare).not.toHaveBeenCalled();
    } finally {
      prepare.mockRestore();
    }
  });

  it('keeps the last subscription change the API noted apart from the reactor\'s checkpoint, never moving back', () => {
    expect(store.lastSubscriptionChange()).toBe(0);
    store.noteSubscriptionChange(7);
    store.noteSubscriptionChange(5); // another API process, slower to note an earlier change
    expect(store.lastSubscriptionChange()).toBe(7);
    expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(0);
    expect(planner.resume()).toBe(0);
  });
});
