import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParcelIndexProjector, SqliteParcelIndex } from '@aftersales/application';
import { SqliteEventStore } from '@aftersales/event-store';

const event = (type: string, data: unknown) => ({ id: randomUUID(), type, data, metadata: {} });

describe('parcel index projector (SQLite event store)', () => {
  let dir: string;
  let path: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-parcels-'));
    path = join(dir, 'aftersales.db');
    store = new SqliteEventStore({ path });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<{ projector: ParcelIndexProjector; index: SqliteParcelIndex; stop(): Promise<void> }> {
    const index = new SqliteParcelIndex({ path });
    const projector = new ParcelIndexProjector(store, index);
    await projector.onApplicationBootstrap();
    return {
      projector,
      index,
      async stop() {
        await projector.onModuleDestroy();
        await index.close();
      },
    };
  }

  it('indexes return, pickup and replacement parcels of case streams only, and resumes from its checkpoint', async () => {
    await store.append('aftersales-c1', [event('ReturnShipped', { carrier: 'sf', trackingNumber: 'T1', shippedAt: '2025-03-01T08:00:00.000Z' })], { expectedRevision: 'any' });
    await store.append('aftersales-c2', [event('PickupScheduled', { carrier: 'sf', trackingNumber: 'T2' })], { expectedRevision: 'any' });
    await store.append('order-o1', [event('OrderShipped', { carrier: 'sf', trackingNumber: 'OUT-1' })], { expectedRevision: 'any' });

    const first = await start();
    expect(await first.projector.waitFor(await store.headPosition(), 5000)).toBe(true);
    expect(await first.index.caseFor('T1')).toBe('c1');
    expect(await first.index.caseFor('T2')).toBe('c2');
    expect(await first.index.caseFor('OUT-1')).toBeUndefined();

    // Live: an event appended after the subscription caught up.
    await store.append('aftersales-c3', [event('ReplacementShipped', { carrier: 'sf', trackingNumber: 'T3' })], { expectedRevision: 'any' });
    expect(await first.projector.waitFor(await store.headPosition(), 5000)).toBe(true);
    expect(await first.index.caseFor('T3')).toBe('c3');
    const checkpoint = first.projector.checkpoint;
    await first.stop();

    await store.append('aftersales-c4', [event('ReturnShipped', { carrier: 'sf', trackingNumber: 'T4' })], { expectedRevision: 'any' });
    const second = await start();
    expect(second.projector.checkpoint).toBe(checkpoint);
    expect(await second.projector.waitFor(await store.headPosition(), 5000)).toBe(true);
    expect(await second.index.caseFor('T4')).toBe('c4');
    await second.stop();
  });

  it('keeps a number with the first open case; once that case ends, a later case may take it', async () => {
    const running = await start();
    const seen = async () => expect(await running.projector.waitFor(await store.headPosition(), 5000)).toBe(true);
    await store.append('aftersales-first', [event('ReturnShipped', { carrier: 'sf', trackingNumber: 'T9' })], { expectedRevision: 'any' });
    await store.append('aftersales-later', [event('ReturnShipped', { carrier: 'sf', trackingNumber: 'T9' })], { expectedRevision: 'any' });
    await seen();
    expect(await running.index.binding('T9')).toEqual({ caseId: 'first', open: true });

    // The later case's own end frees nothing of the first's.
    await store.append('aftersales-later', [event('CaseClosed', { reason: 'withdrawn' })], { expectedRevision: 'any' });
    await seen();
    expect(await running.index.binding('T9')).toEqual({ caseId: 'first', open: true });

    // Ended, the first case still answers for its parcel (a late scan), until another case registers the number.
    await store.append('aftersales-first', [event('CaseCompleted', {})], { expectedRevision: 'any' });
    await seen();
    expect(await running.index.binding('T9')).toEqual({ caseId: 'first', open: false });
    expect(await running.index.caseFor('T9')).toBe('first');
    await store.append('aftersales-third', [event('PickupScheduled', { carrier: 'sf', trackingNumber: 'T9' })], { expectedRevision: 'any' });
    await seen();
    expect(await running.index.binding('T9')).toEqual({ caseId: 'third', open: true });
    await running.stop();
  });

  it('waitFor gives up after its timeout when the position is never reached', async () => {
    const running = await start();
    expect(await running.projector.waitFor(1_000_000, 50)).toBe(false);
    await running.stop();
  });
});
