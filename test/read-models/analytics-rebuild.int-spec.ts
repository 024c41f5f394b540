import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SqliteEventStore, type EventStore } from '@aftersales/event-store';
import {
  agentQueueProjection,
  caseAnalyticsProjection,
  migrateReadStore,
  openReadStore,
  ProjectionRunner,
  projectionLock,
  rebuildProjections,
  type AnyProjection,
  type ReadStore,
} from '@aftersales/read-models';
import { appendRandomHistories } from './support/random-histories';
import { DIALECTS, openTestReadStore, type TestReadStore } from './support/read-stores';

/** Every row of the projection's tables, in a stable order: what "equal" means here. */
async function rowsOf(store: ReadStore, projection: AnyProjection): Promise<string[]> {
  const all: string[] = [];
  for (const table of projection.tables) {
    const rows = await store.db.selectFrom(table).selectAll().execute();
    all.push(...rows.map((row) => JSON.stringify(row)).sort());
  }
  return all;
}

const metadata = (role: string, id: string) => ({ actor: { role, id }, channel: 'web', occurredAt: '2026-01-01T00:00:00.000Z' });

/** The orders of appendRandomHistories' worlds (`o-<prefix><k>`), each from one of two payment accounts. */
async function appendOrders(store: EventStore, worlds: number, prefix: string): Promise<void> {
  for (let k = 0; k < worlds; k += 1) {
    const orderId = `o-${prefix}${k}`;
    const data = { orderId, buyerId: `u${k % 5}`, merchantId: `m${k % 3}`, currency: 'CNY', paidAmount: 30_000 + k, shippingFee: 0, paymentMethod: 'card', paymentAccount: `acct-${k % 2}`, buyerTrustScore: 500, returnShippingInsured: false, businessLine: 'apparel', placedAt: '2026-01-01T00:00:00.000Z', lines: [] };
    await store.append(`order-${orderId}`, [{ id: randomUUID(), type: 'OrderRegistered', data, metadata: metadata('integration', 'orders') }], { expectedRevision: 'any' });
  }
}

async function flag(store: EventStore, buyerId: string, flagged: boolean): Promise<void> {
  const type = flagged ? 'BuyerFlagged' : 'BuyerUnflagged';
  await store.append(`buyer-${buyerId}`, [{ id: randomUUID(), type, data: { buyerId, reason: 'review' }, metadata: metadata('admin', 'admin-1') }], { expectedRevision: 'any' });
}

describe.each(DIALECTS)('agent_queue and case_analytics rebuilt on %s', (dialect) => {
  let t: TestReadStore;
  let events: SqliteEventStore;
  let live: ProjectionRunner[] = [];
  let liveStore: ReadStore;
  const projections = [agentQueueProjection, caseAnalyticsProjection];

  beforeEach(async () => {
    t = await openTestReadStore(dialect);
    events = new SqliteEventStore({ path: join(t.dir, 'aftersales.db') });
    liveStore = openReadStore(t.readStoreConfig);
    await migrateReadStore(liveStore);
  });
  afterEach(async () => {
    await Promise.all(live.map((r) => r.stop()));
    live = [];
    await liveStore.close();
    await events.close();
    await t.cleanup();
  });

  it('rebuilds tables equal to the live ones, followed in small batches, after random histories with orders and buyer flags', async () => {
    await appendOrders(events, 30, 'w');
    await flag(events, 'u1', true);
    await appendRandomHistories(events, 30, 21);
    await flag(events, 'u3', true);
    await flag(events, 'u1', false);
    live = projections.map((projection) => {
      const runner = new ProjectionRunner(liveStore, events, projection, projectionLock(liveStore, projection.name, { retryMs: 50 }), { maxBatch: 23, retryDelayMs: 50 });
      runner.start();
      return runner;
    });
    for (const runner of live) expect(await runner.waitFor(await events.headPosition(), 20_000)).toBe(true);

    const before = await Promise.all(projections.map((p) => rowsOf(t.store, p)));
    expect(before[0].length).toBeGreaterThan(10);
    expect(before[1].length).toBeGreaterThan(10);
    // The flags reached the pool: u3's open cases are in it, u1's (flag cleared) only for another need.
    const pooled = await t.store.db.selectFrom('rm_agent_queue').select(['buyer_id', 'status', 'assignee', 'state']).where('in_pool', '=', 1).execute();
    for (const row of pooled) {
      const state = JSON.parse(row.state) as { needsAgent?: string };
      expect(row.assignee).toBeNull();
      expect(row.buyer_id === 'u3' || row.status === 'escalated' || state.needsAgent === 'refund_failed').toBe(true);
    }
    expect(pooled.some((row) => row.buyer_id === 'u3')).toBe(true);
    const accounts = await t.store.db.selectFrom('rm_case_facts').select('payment_account').distinct().execute();
    expect(accounts.map((a) => a.payment_account).sort()).toEqual(['acct-0', 'acct-1']);

    await rebuildProjections(t.store, events, projections, { batchSize: 100 });
    expect(await Promise.all(projections.map((p) => rowsOf(t.store, p)))).toEqual(before);
  }, 60_000);
});
