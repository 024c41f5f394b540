import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aftersales/config';
import { toDomainEvent } from '@aftersales/application';
import {
  ACTOR_ROLES,
  CASE_KINDS,
  CASE_STATUSES,
  CASE_REASONS,
  CLOSED_REASONS,
  evolveOrder,
  initialOrderState,
  refundLedger,
  type OrderEvent,
  type OrderState,
} from '@aftersales/domain';
import { SqliteEventStore, type StoredEvent } from '@aftersales/event-store';
import { StoreNotEmptyError, seed, type SeedOptions, type SeedSummary } from '../../apps/cli/src/seed/seed';

// The seed as a product command, in-process on a SQLite file of its own:
// what it writes is a history the domain accepted, covering what analysts
// and benchmarks need, and the same seed writes the same history.

const NOW = new Date('2026-06-01T00:00:00.000Z');

async function seedInto(dir: string, options: Partial<SeedOptions>): Promise<{ summary: SeedSummary; events: StoredEvent[] }> {
  const config = loadConfig({ SQLITE_PATH: join(dir, 'events.db') });
  const summary = await seed(config, { cases: 400, days: 90, seed: 7, append: false, now: NOW, ...options });
  const store = new SqliteEventStore({ path: join(dir, 'events.db') });
  try {
    const events: StoredEvent[] = [];
    for (let batch = await store.readAll({ maxCount: 5000 }); batch.length > 0; batch = await store.readAll({ after: batch[batch.length - 1].position, maxCount: 5000 })) {
      events.push(...batch);
    }
    return { summary, events };
  } finally {
    await store.close();
  }
}

const ofType = (events: StoredEvent[], type: string) => events.filter((e) => e.type === type);
const data = <T>(e: StoredEvent) => e.data as T;

describe('seed', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'aftersales-seed-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('400 cases with seed 7', () => {
    let summary: SeedSummary;
    let events: StoredEvent[];

    beforeAll(async () => {
      ({ summary, events } = await seedInto(tempDir(), {}));
    }, 180_000);

    it('asks for every kind and every reason, nearly always accepted', () => {
      const requests = ofType(events, 'ReturnRequested').map((e) => data<{ kind: string; reason: string }>(e));
      expect(summary.requested).toBe(400);
      expect(requests.length).toBe(summary.opened);
      expect(summary.opened).toBeGreaterThanOrEqual(390);
      expect(new Set(requests.map((r) => r.kind))).toEqual(new Set(CASE_KINDS));
      expect(new Set(requests.map((r) => r.reason))).toEqual(new Set(CASE_REASONS));
      const refused = Object.values(summary.refusals).reduce((s, n) => s + n, 0);
      expect(refused / summary.commands).toBeLessThan(0.05);
    });

    it('has every actor role act', () => {
      const roles = new Set(events.map((e) => (e.metadata.actor as { role: string }).role));
      expect(roles).toEqual(new Set(ACTOR_ROLES));
    });

    it('ends cases completed and closed for every reason, and leaves others open in most statuses, as a live store has', () => {
      const statuses = new Set(CASE_KINDS.flatMap((k) => Object.keys(summary.byKind[k])));
      expect(statuses.has('completed') && statuses.has('closed')).toBe(true);
      // Measured: 11 of the 12 (an offer lapses within 48 h, so few cases sit in negotiating at the end).
      expect(statuses.size).toBeGreaterThanOrEqual(10);
      expect(statuses.size).toBeLessThanOrEqual(CASE_STATUSES.length);
      const closedReasons = new Set(ofType(events, 'CaseClosed').map((e) => data<{ reason: string }>(e).reason));
      expect(closedReasons).toEqual(new Set(CLOSED_REASONS));
    });

    it('lets deadlines decide: auto-approvals, lapsed offers, assumed deliveries, auto-confirmed receipts', () => {
      expect(ofType(events, 'MerchantAgreed').some((e) => data<{ auto: boolean }>(e).auto)).toBe(true);
      expect(ofType(events, 'OfferLapsed').length).toBeGreaterThan(0);
      expect(ofType(events, 'ReturnDelivered').some((e) => data<{ assumed?: boolean }>(e).assumed === true)).toBe(true);
      expect(ofType(events, 'ReturnReceived').some((e) => data<{ auto?: boolean }>(e).auto === true)).toBe(true);
      expect(Object.keys(summary.deadlinesFired).length).toBeGreaterThanOrEqual(6);
      // An auto-approval comes from the system, at (not before) the merchant's response deadline.
      const dueAt = new Map<string, string>();
      let autoApprovals = 0;
      for (const e of events) {
        if (e.type === 'DeadlineSet' && data<{ name: string }>(e).name === 'merchantResponse') dueAt.set(e.streamName, data<{ dueAt: string }>(e).dueAt);
        if (e.type !== 'MerchantAgreed' || !data<{ auto: boolean }>(e).auto) continue;
        autoApprovals += 1;
        expect((e.metadata.actor as { role: string }).role).toBe('system');
        expect(Date.parse(e.metadata.occurredAt as string)).toBeGreaterThanOrEqual(Date.parse(dueAt.get(e.streamName)!));
      }
      expect(autoApprovals).toBeGreaterThan(0);
    });

    it('pays refunds and compensation, fails some attempts first, and records ratings, rulings and abuse flags', () => {
      expect(summary.refunds.settled).toBeGreaterThan(150);
      expect(summary.refunds.failed).toBeGreaterThan(0);
      for (const type of ['SatisfactionRated', 'ArbitrationRuled', 'CompensationGranted', 'AutoReviewApproved', 'BuyerFlagged', 'CaseClaimed', 'MerchantCounterOffered', 'ReturnInspectionFailed']) {
        expect([type, ofType(events, type).length > 0]).toEqual([type, true]);
      }
    });

    it('has abusive buyers: refund-only cases behind one payment account shared by several buyers', () => {
      const orders = ofType(events, 'OrderRegistered').map((e) => data<{ orderId: string; buyerId: string; paymentAccount: string }>(e));
      const buyersByAccount = new Map<string, Set<string>>();
      for (const o of orders) buyersByAccount.set(o.paymentAccount, (buyersByAccount.get(o.paymentAccount) ?? new Set()).add(o.buyerId));
      const shared = [...buyersByAccount.entries()].filter(([, buyers]) => buyers.size >= 2);
      expect(shared.length).toBeGreaterThan(0);
      const ringBuyers = new Set(shared.flatMap(([, buyers]) => [...buyers]));
      const ringCases = ofType(events, 'ReturnRequested').filter((e) => ringBuyers.has(data<{ buyerId: string }>(e).buyerId));
      expect(ringCases.length).toBeGreaterThanOrEqual(20);
      expect(ringCases.filter((e) => data<{ kind: string }>(e).kind === 'refund_only').length / ringCases.length).toBeGreaterThan(0.5);
    });

    it('never refunds more than an order was paid', () => {
      const orders = new Map<string, OrderState>();
      for (const e of events.filter((x) => x.streamName.startsWith('order-'))) {
        orders.set(e.streamName, evolveOrder(orders.get(e.streamName) ?? initialOrderState, toDomainEvent<OrderEvent>(e)));
      }
      expect(orders.size).toBeGreaterThan(350);
      for (const [stream, order] of orders) {
        const ledger = refundLedger(order);
        expect([stream, ledger.refunded + ledger.reserved <= ledger.paid, ledger.refundable >= 0]).toEqual([stream, true, true]);
      }
    });

    it("moves each stream's time forward only, within the days asked for (orders placed a little before)", () => {
      const times = events.filter((e) => e.streamName.startsWith('aftersales-')).map((e) => Date.parse(e.metadata.occurredAt as string));
      expect(Math.max(...times)).toBeLessThanOrEqual(NOW.getTime());
      expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW.getTime() - 90 * 86_400_000);
      const last = new Map<string, number>();
      for (const e of events) {
        const at = Date.parse(e.metadata.occurredAt as string);
        expect([e.streamName, at >= (last.get(e.streamName) ?? 0)]).toEqual([e.streamName, true]);
        last.set(e.streamName, at);
      }
    });

    it('refuses a store that already holds cases, unless appending', async () => {
      const dir = dirs[0];
      const config = loadConfig({ SQLITE_PATH: join(dir, 'events.db') });
      await expect(seed(config, { cases: 5, days: 30, seed: 7, append: false, now: NOW })).rejects.toThrow(StoreNotEmptyError);
      const appended = await seed(config, { cases: 5, days: 30, seed: 7, append: true, now: NOW });
      expect(appended.opened).toBeGreaterThanOrEqual(4);
    }, 60_000);
  });

  it('writes the same history for the same seed', async () => {
    // Every stream's events, types and times; streams of different orders are written side by side, so their interleaving in the log may vary.
    const shape = (events: StoredEvent[]) => {
      const streams = new Map<string, string[]>();
      for (const e of events) streams.set(e.streamName, [...(streams.get(e.streamName) ?? []), `${e.type} ${e.metadata.occurredAt as string}`]);
      return [...streams.entries()].sort(([a], [b]) => a.localeCompare(b));
    };
    const first = await seedInto(tempDir(), { cases: 40, seed: 11 });
    const second = await seedInto(tempDir(), { cases: 40, seed: 11 });
    expect(shape(second.events)).toEqual(shape(first.events));
    const other = await seedInto(tempDir(), { cases: 40, seed: 12 });
    expect(shape(other.events)).not.toEqual(shape(first.events));
  }, 120_000);
});
