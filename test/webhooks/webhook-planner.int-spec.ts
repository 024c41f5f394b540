import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoredEvent } from '@aftersales/event-store';
import { deliveryIdOf, WEBHOOK_CHECKPOINT, WEBHOOK_EVENT_TYPES, WebhookPlanner, WebhookStore } from '@aftersales/scheduling';
import { eventually } from '../support/eventually';

// The webhook reactor's planning step on a real SQLite file: a stretch of
// the log no subscription wants costs no write but a checkpoint at most
// once a second; re-reading the log from a checkpoint that lagged writes
// nothing twice; a checkpoint never passes deliveries not written; several
// processes following one log keep one table right.

let position = 0;
const at = (p: number, streamName: string, type: string, data: unknown = {}): StoredEvent => ({
  id: randomUUID(),
  streamName,
  type,
  data,
  metadata: { occurredAt: '2025-03-01T08:00:00.000Z' },
  revision: 0,
  position: p,
  recordedAt: new Date('2025-03-01T08:00:00.000Z'),
});
const event = (streamName: string, type: string, data: unknown = {}): StoredEvent => at(++position, streamName, type, data);
const subscribed = (webhookId: string, events: string[]) =>
  event(`webhook-${webhookId}`, WEBHOOK_EVENT_TYPES.subscribed, { webhookId, url: 'https://hooks.example.com/x', events, secret: 'sixteen-chars-secret' });
const notes = (n: number, type = 'DeadlineSet') => Array.from({ length: n }, (_, i) => event(`aftersales-c${i % 7}`, type));

describe('WebhookPlanner on a SQLite file', () => {
  let dir: string;
  let file: string;
  const opened: WebhookStore[] = [];
  const planners: WebhookPlanner[] = [];

  const open = () => {
    const store = new WebhookStore(file);
    opened.push(store);
    return store;
  };
  const plannerOn = (store: WebhookStore, clock: () => number, checkpointEveryMs?: number) => {
    const planner = new WebhookPlanner(store, clock, { checkpointEveryMs });
    planners.push(planner);
    return planner;
  };
  /** Every delivery id in the table, read through a connection of the test's own. */
  const deliveryIds = (): string[] => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT delivery_id FROM wh_deliveries ORDER BY delivery_id').all() as { delivery_id: string }[]).map((r) => r.delivery_id);
    } finally {
      db.close();
    }
  };

  beforeEach(() => {
    position = 0;
    dir = mkdtempSync(join(tmpdir(), 'webhook-planner-'));
    file = join(dir, 'aftersales.db');
  });
  afterEach(() => {
    for (const planner of planners.splice(0)) planner.flush();
    for (const store of opened.splice(0)) store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a stretch of the log no subscription wants commits nothing but its checkpoint, at most once a second', () => {
    let now = 0;
    const store = open();
    const planner = plannerOn(store, () => now);
    // Another connection sees every commit the store makes: data_version changes with each.
    const observer = new Database(file);
    const version = () => observer.pragma('data_version', { simple: true }) as number;
    try {
      planner.resume();
      const first = notes(100);
      planner.apply(first, first.at(-1)!.position);
      expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(100);
      const before = version();
      for (let batch = 0; batch < 50; batch++) {
        now += 10;
        const events = notes(100);
        expect(planner.apply(events, events.at(-1)!.position + 3)).toEqual([]);
      }
      expect(version()).toBe(before);
      expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(100);

      // A second after the last write, the next batch stores the checkpoint: one commit.
      now = 1000;
      const last = notes(10);
      planner.apply(last, last.at(-1)!.position);
      expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(position);
      expect(version()).not.toBe(before);
      const after = version();
      now = 1500;
      planner.apply([], position + 1);
      expect(version()).toBe(after);
    } finally {
      observer.close();
    }
  });

  it('stores the last checkpoint owed on its own a second later when the log goes quiet', async () => {
    const store = open();
    const planner = plannerOn(store, Date.now, 200);
    planner.resume();
    const first = notes(5);
    planner.apply(first, 5);
    const quiet = notes(5);
    planner.apply(quiet, 12);
    expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(5);
    await eventually('the owed checkpoint stored', async () => (store.checkpoint(WEBHOOK_CHECKPOINT) === 12 ? true : undefined), 5000, 20);
  });

  it('a restart re-reads the log after a checkpoint that lagged and writes nothing twice', () => {
    let now = 0;
    const first = open();
    const planner = plannerOn(first, () => now);
    planner.resume();
    planner.apply(notes(2), 2);
    const log = [subscribed('w1', ['CaseNoteAdded']), event('aftersales-c1', 'CaseNoteAdded'), event('aftersales-c2', 'CaseNoteAdded')];
    expect(planner.apply(log, 5)).toEqual([
      { webhookId: 'w1', caseId: 'c1' },
      { webhookId: 'w1', caseId: 'c2' },
    ]);
    // One delivered, one a dead letter: a second reading must not make them pending again.
    first.recordDelivered(first.head({ webhookId: 'w1', caseId: 'c1' })!, 10);
    first.recordFailed(first.head({ webhookId: 'w1', caseId: 'c2' })!, 'answered 410', 10, undefined);
    // Within the second of the last checkpoint-only write: owed, not stored.
    now = 100;
    const unwanted = notes(20);
    log.push(...unwanted);
    planner.apply(unwanted, 25);
    expect(first.checkpoint(WEBHOOK_CHECKPOINT)).toBe(5);

    // Killed without storing what it owed; a new process reads from the stored checkpoint, with a batch that straddles it.
    first.close();
    const second = open();
    const restarted = plannerOn(second, () => now);
    expect(restarted.resume()).toBe(5);
    log.push(event('aftersales-c1', 'CaseNoteAdded'));
    expect(restarted.apply(log.slice(1), 26)).toEqual([{ webhookId: 'w1', caseId: 'c1' }]);
    expect(restarted.apply(log, 26)).toBeUndefined();
    expect(deliveryIds()).toEqual(['w1-26', 'w1-4', 'w1-5']);
    expect(second.delivery('w1-4')).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(second.delivery('w1-5')).toMatchObject({ status: 'dead', attempts: 1 });
    expect(second.counts()).toEqual({ pending: 1, delivered: 1, dead: 1 });
    expect(second.checkpoint(WEBHOOK_CHECKPOINT)).toBe(26);
  });

  it('never moves the checkpoint past a batch whose deliveries were not written', () => {
    let now = 0;
    const store = open();
    const planner = plannerOn(store, () => now);
    planner.resume();
    planner.apply([subscribed('w1', ['CaseNoteAdded'])], 1);
    // The table refuses deliveries for a while (a real SQLite error, raised by a trigger another connection adds).
    const admin = new Database(file);
    try {
      admin.exec("CREATE TRIGGER refuse BEFORE INSERT ON wh_deliveries BEGIN SELECT RAISE(ABORT, 'refused'); END");
      const owed = [event('aftersales-c1', 'CaseNoteAdded')];
      expect(() => planner.apply(owed, 2)).toThrow('refused');
      // The next batch wants nothing, a second later: it still may not store a checkpoint past the failed one.
      now = 5000;
      const unwanted = notes(3);
      expect(() => planner.apply(unwanted, 5)).toThrow(/resume/);
      expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(1);
      admin.exec('DROP TRIGGER refuse');

      // As the log follower does after a failure: resume from the stored checkpoint and read again.
      expect(planner.resume()).toBe(1);
      expect(planner.apply([...owed, ...unwanted], 5)).toEqual([{ webhookId: 'w1', caseId: 'c1' }]);
      expect(deliveryIds()).toEqual(['w1-2']);
      expect(store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(5);
    } finally {
      admin.close();
    }
  });

  it('processes that follow one log in their own batches, restarting now and then, keep the table as one would', () => {
    // A seeded simulation: the log, the batch splits, the interleaving, the clocks and the crashes all come from the seed.
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const random = seeded(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
      const types = ['ReturnRequested', 'CaseNoteAdded', 'DeadlineSet', 'CaseClosed'];

      // The log as the reactor's subscription yields it: the events it reads, with gaps for the ones it does not.
      const log: StoredEvent[] = [];
      let p = 0;
      const live: string[] = [];
      let next = 0;
      for (let i = 0; i < 400; i++) {
        p += 1 + (random() < 0.3 ? Math.floor(random() * 5) : 0);
        const roll = random();
        if (roll < 0.03) {
          const webhookId = `w${next++}`;
          live.push(webhookId);
          const events = types.filter(() => random() < 0.5);
          log.push(at(p, `webhook-${webhookId}`, WEBHOOK_EVENT_TYPES.subscribed, { webhookId, url: 'https://hooks.example.com/x', events, secret: 'sixteen-chars-secret' }));
        } else if (roll < 0.04 && live.length > 0) {
          const webhookId = live.splice(Math.floor(random() * live.length), 1)[0];
          log.push(at(p, `webhook-${webhookId}`, WEBHOOK_EVENT_TYPES.cancelled, { webhookId }));
        } else {
          log.push(at(p, `aftersales-c${Math.floor(random() * 5)}`, pick(types)));
        }
      }
      const end = p + 3;

      // What the table holds once the log up to `checkpoint` is taken in, worked out plainly.
      const expectedAt = (checkpoint: number) => {
        const active = new Map<string, string[]>();
        const deliveries = new Set<string>();
        for (const e of log) {
          if (e.position > checkpoint) break;
          const data = e.data as { webhookId: string; events: string[] };
          if (e.type === WEBHOOK_EVENT_TYPES.subscribed) active.set(data.webhookId, data.events);
          else if (e.type === WEBHOOK_EVENT_TYPES.cancelled) {
            active.delete(data.webhookId);
            for (const id of [...deliveries]) if (id.startsWith(`${data.webhookId}-`)) deliveries.delete(id);
          } else for (const [webhookId, events] of active) if (events.includes(e.type)) deliveries.add(deliveryIdOf(webhookId, e.position));
        }
        return { deliveries: [...deliveries].sort(), subscriptions: [...active.keys()].sort() };
      };

      file = join(dir, `seed-${seed}.db`);
      let now = 0;
      interface Process {
        store: WebhookStore;
        planner: WebhookPlanner;
        /** The log follower's position: the next batch starts after it. */
        followed: number;
      }
      const start = (): Process => {
        const store = open();
        const planner = plannerOn(store, () => now);
        return { store, planner, followed: planner.resume() };
      };
      const processes = [start(), start()];
      const check = (when: string) => {
        const checkpoint = processes[0].store.checkpoint(WEBHOOK_CHECKPOINT);
        const expected = expectedAt(checkpoint);
        const found = { deliveries: deliveryIds(), subscriptions: processes[0].store.listSubscriptions().map((s) => s.webhookId).sort() };
        if (JSON.stringify(found) !== JSON.stringify(expected)) {
          throw new Error(`seed ${seed}, ${when}, checkpoint ${checkpoint}: table ${JSON.stringify(found)}, log says ${JSON.stringify(expected)}`);
        }
      };

      for (let step = 0; processes.some((x) => x.followed < end); step++) {
        now += Math.floor(random() * 400);
        const index = Math.floor(random() * processes.length);
        const process = processes[index];
        if (random() < 0.05) {
          // Killed: what it owed is lost; a new one resumes from the stored checkpoint.
          process.store.close();
          processes[index] = start();
          check(`step ${step}, after a restart`);
          continue;
        }
        if (process.followed >= end) continue;
        const after = log.filter((e) => e.position > process.followed);
        const events = after.slice(0, 1 + Math.floor(random() * 60));
        // Sometimes the batch ends past its last event (events of types not read came after it).
        const batchEnd = events.length === after.length ? end : random() < 0.3 ? after[events.length].position - 1 : events.at(-1)!.position;
        process.planner.apply(events, Math.max(batchEnd, events.at(-1)?.position ?? 0));
        process.followed = Math.max(batchEnd, events.at(-1)?.position ?? 0);
        check(`step ${step}, process ${index} applied up to ${process.followed}`);
      }
      for (const process of processes) process.planner.flush();
      expect(processes[0].store.checkpoint(WEBHOOK_CHECKPOINT)).toBe(end);
      check('at the end');
      expect(deliveryIds().length).toBeGreaterThan(0);
    }
  });
});

/** A small deterministic generator (mulberry32), so a failing seed replays exactly. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
