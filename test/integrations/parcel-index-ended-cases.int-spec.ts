import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParcelIndexProjector, PostgresParcelIndex, SqliteParcelIndex, type ParcelIndex } from '@aftersales/application';
import { SqliteEventStore } from '@aftersales/event-store';
import { DATABASE_URL, createTestDatabase } from '../shared-state/support/postgres-database';

const event = (type: string, data: unknown) => ({ id: randomUUID(), type, data, metadata: {} });

// Most cases end holding no parcel (a refund without a return): their ending
// is passed over without a write, and a case holding one still frees it.
describe('parcel index: cases that end', () => {
  let dir: string;
  let path: string;
  let store: SqliteEventStore;
  let index: SqliteParcelIndex;
  let projector: ParcelIndexProjector;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-parcels-ended-'));
    path = join(dir, 'aftersales.db');
    store = new SqliteEventStore({ path });
    index = new SqliteParcelIndex({ path });
    projector = new ParcelIndexProjector(store, index);
    await projector.onApplicationBootstrap();
  });

  afterEach(async () => {
    await projector.onModuleDestroy();
    await index.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const seen = async () => expect(await projector.waitFor(await store.headPosition(), 5000)).toBe(true);

  it('tells whether a case holds a number as an open case', async () => {
    await index.record([{ trackingNumber: 'T1', caseId: 'c1' }], 1);
    expect(await index.holdsParcels('c1')).toBe(true);
    expect(await index.holdsParcels('c2')).toBe(false);
    await index.record([{ caseEnded: 'c1' }], 2);
    expect(await index.holdsParcels('c1')).toBe(false);
  });

  it('writes nothing for a case that ends holding no parcel, and still reaches its position', async () => {
    const record = jest.spyOn(index, 'record');
    await store.append('aftersales-c1', [event('CaseCompleted', {})], { expectedRevision: 'any' });
    await store.append('aftersales-c2', [event('CaseClosed', { reason: 'withdrawn' })], { expectedRevision: 'any' });
    await seen();
    expect(record).not.toHaveBeenCalled();
  });

  it('frees the number of a case that ends holding one', async () => {
    await store.append('aftersales-c3', [event('ReturnShipped', { carrier: 'sf', trackingNumber: 'T3' })], { expectedRevision: 'any' });
    await store.append('aftersales-c3', [event('CaseCompleted', {})], { expectedRevision: 'any' });
    await seen();
    expect(await index.binding('T3')).toEqual({ caseId: 'c3', open: false });
  });
});

// The same question of the PostgreSQL index, when a server is at hand (DATABASE_URL).
(DATABASE_URL ? describe : describe.skip)('PostgreSQL parcel index: whether a case holds a number', () => {
  it('tells whether a case holds a number as an open case', async () => {
    const database = await createTestDatabase('parcel_holds_test');
    let index: ParcelIndex | undefined;
    try {
      index = await PostgresParcelIndex.open({ databaseUrl: database.url });
      await index.record([{ trackingNumber: 'T1', caseId: 'c1' }], 1);
      expect(await index.holdsParcels('c1')).toBe(true);
      expect(await index.holdsParcels('c2')).toBe(false);
      await index.record([{ caseEnded: 'c1' }], 2);
      expect(await index.holdsParcels('c1')).toBe(false);
    } finally {
      await index?.close();
      await database.drop();
    }
  });
});
