import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@aftersales/event-store';
import { loadOrder } from '../../libs/application/src/events/streams';

// The folded-state cache must never hide an event: a state cached by one
// process is brought up to date with what another process appended since.
describe('loading streams through the folded-state cache', () => {
  let dir: string;
  let mine: SqliteEventStore;
  let theirs: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-folded-'));
    mine = new SqliteEventStore({ path: join(dir, 'events.db') });
    theirs = new SqliteEventStore({ path: join(dir, 'events.db') });
  });

  afterEach(async () => {
    await mine.close();
    await theirs.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const event = (type: string, data: unknown) => ({ id: randomUUID(), type, data, metadata: { occurredAt: '2026-01-01T00:00:00.000Z' } });
  const snapshot = {
    orderId: 'o1', buyerId: 'u1', merchantId: 'm1', currency: 'CNY', paidAmount: 1500, shippingFee: 500,
    paymentMethod: 'card', paymentAccount: 'a1', buyerTrustScore: 100, returnShippingInsured: false,
    businessLine: 'apparel', placedAt: '2026-01-01T00:00:00.000Z',
    lines: [{ lineId: 'L1', sku: 's', productId: 'p', title: 't', category: 'c', supplierId: 's1', quantity: 1, unitPrice: 1000, paidAmount: 1000, noReasonReturn: true }],
  };

  it('folds what another writer appended after the state was cached', async () => {
    await mine.append('order-o1', [event('OrderRegistered', snapshot)], { expectedRevision: 'no_stream' });
    const first = await loadOrder(mine, 'o1');
    expect(first).toMatchObject({ revision: 0, state: { status: 'placed' } });

    await theirs.append('order-o1', [event('OrderShipped', { carrier: 'sf', trackingNumber: 'T1', shippedAt: '2026-01-02T00:00:00.000Z' })], { expectedRevision: 0 });
    const second = await loadOrder(mine, 'o1');
    expect(second).toMatchObject({ revision: 1, state: { status: 'shipped' } });
    expect(second.lastPosition).toBeGreaterThan(first.lastPosition);

    // The cached state was not changed in place.
    expect(first.state).toMatchObject({ status: 'placed' });
    // A store of its own (another file, another process) has a cache of its own.
    expect((await loadOrder(theirs, 'o1')).state).toMatchObject({ status: 'shipped' });
  });
});
