import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ParcelIndexProjector,
  PostgresAcceptedSignatureStore,
  PostgresParcelIndex,
  SqliteAcceptedSignatureStore,
  SqliteParcelIndex,
  type AcceptedSignatureStore,
  type ParcelIndex,
} from '@aftersales/application';
import { SqliteEventStore } from '@aftersales/event-store';
import { DATABASE_URL, createTestDatabase, type TestDatabase } from './support/postgres-database';

// The accepted-signature store and the parcel index: the same cases on the
// SQLite file in every run and on PostgreSQL whenever DATABASE_URL names a
// server. Two stores opened on the same records stand for two API processes.

interface StoresKind {
  name: string;
  signatures(options?: { purgeIntervalMs?: number }): Promise<AcceptedSignatureStore>;
  parcels(): Promise<ParcelIndex>;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
}

const sqlite = (): StoresKind => {
  let dir: string;
  return {
    name: 'SQLite',
    signatures: async (options = {}) => new SqliteAcceptedSignatureStore({ path: join(dir, 'aftersales.db'), ...options }),
    parcels: async () => new SqliteParcelIndex({ path: join(dir, 'aftersales.db') }),
    setUp: async () => {
      dir = mkdtempSync(join(tmpdir(), 'aftersales-shared-stores-'));
    },
    tearDown: async () => rmSync(dir, { recursive: true, force: true }),
  };
};

const postgres = (): StoresKind => {
  let database: TestDatabase;
  return {
    name: 'PostgreSQL',
    signatures: (options = {}) => PostgresAcceptedSignatureStore.open({ databaseUrl: database.url, ...options }),
    parcels: () => PostgresParcelIndex.open({ databaseUrl: database.url }),
    setUp: async () => {
      database = await createTestDatabase('integration_stores_test');
    },
    tearDown: async () => database?.drop(),
  };
};

if (!DATABASE_URL) {
  // eslint-disable-next-line no-console
  console.info('DATABASE_URL is not set: the integration stores run on SQLite only');
}

const kinds = DATABASE_URL ? [sqlite(), postgres()] : [sqlite()];

describe.each(kinds)('accepted callback signatures on $name', (kind) => {
  const opened: AcceptedSignatureStore[] = [];
  const open = async (options?: { purgeIntervalMs?: number }) => {
    const store = await kind.signatures(options);
    opened.push(store);
    return store;
  };

  beforeEach(() => kind.setUp());
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await kind.tearDown();
  });

  it('accepts a signature once; a replay is refused, through this store or another on the same records', async () => {
    const now = Date.now();
    const first = await open();
    const second = await open();
    expect(await first.accept('sig-a', now)).toBe(true);
    expect(await first.accept('sig-a', now)).toBe(false);
    expect(await second.accept('sig-a', now + 1000)).toBe(false);
    expect(await second.accept('sig-b', now + 1000)).toBe(true);
    expect(await first.accept('sig-b', now + 2000)).toBe(false);
  });

  it('remembers a signature across a restart, and forgets it after the retention', async () => {
    const now = Date.now();
    const first = await open();
    expect(await first.accept('sig-a', now)).toBe(true);
    await first.close();

    const restarted = await open({ purgeIntervalMs: 0 });
    expect(await restarted.accept('sig-a', now + 1000)).toBe(false);
    // Past the 10 minute retention a signature that old is refused for its timestamp anyway.
    expect(await restarted.accept('sig-a', now + 11 * 60_000)).toBe(true);
    expect(await restarted.accept('sig-a', now + 11 * 60_000)).toBe(false);
  });

  it('lets exactly one of many concurrent deliveries of one signature in, whichever store they reach', async () => {
    const stores = [await open(), await open()];
    const now = Date.now();
    for (let round = 0; round < 10; round += 1) {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => stores[i % 2].accept(`sig-race-${round}`, now)));
      expect(answers.filter(Boolean)).toHaveLength(1);
    }
  });
});

describe.each(kinds)('the parcel index on $name', (kind) => {
  const opened: ParcelIndex[] = [];
  const open = async () => {
    const index = await kind.parcels();
    opened.push(index);
    return index;
  };

  beforeEach(() => kind.setUp());
  afterEach(async () => {
    for (const index of opened.splice(0)) await index.close();
    await kind.tearDown();
  });

  it('keeps entries and the checkpoint across a restart; the checkpoint never moves back', async () => {
    const index = await open();
    expect(await index.checkpoint()).toBe(0);
    await index.record([{ trackingNumber: 'T1', caseId: 'c1' }], 5);
    await index.record([], 3);
    await index.close();

    const restarted = await open();
    expect(await restarted.caseFor('T1')).toBe('c1');
    expect(await restarted.caseFor('T2')).toBeUndefined();
    expect(await restarted.checkpoint()).toBe(5);
  });

  it('keeps a number with the first open case; once that case ends, a later case may take it', async () => {
    const index = await open();
    await index.record([{ trackingNumber: 'T9', caseId: 'first' }], 1);
    await index.record([{ trackingNumber: 'T9', caseId: 'later' }], 2);
    expect(await index.binding('T9')).toEqual({ caseId: 'first', open: true });
    await index.record([{ caseEnded: 'later' }], 3);
    expect(await index.binding('T9')).toEqual({ caseId: 'first', open: true });
    await index.record([{ caseEnded: 'first' }], 4);
    expect(await index.binding('T9')).toEqual({ caseId: 'first', open: false });
    expect(await index.caseFor('T9')).toBe('first');
    await index.record([{ trackingNumber: 'T9', caseId: 'third' }], 5);
    expect(await index.binding('T9')).toEqual({ caseId: 'third', open: true });
    expect(await index.checkpoint()).toBe(5);
  });

  it('answers through another index on the same records what one recorded', async () => {
    const writer = await open();
    const reader = await open();
    await writer.record([{ trackingNumber: 'T1', caseId: 'c1' }], 7);
    expect(await reader.binding('T1')).toEqual({ caseId: 'c1', open: true });
    expect(await reader.checkpoint()).toBe(7);
  });
});

if (DATABASE_URL) {
  describe('the parcel index on PostgreSQL, written by several processes', () => {
    const kind = postgres();
    let dir: string;
    let events: SqliteEventStore;

    beforeEach(async () => {
      await kind.setUp();
      dir = mkdtempSync(join(tmpdir(), 'aftersales-shared-parcels-'));
      events = new SqliteEventStore({ path: join(dir, 'aftersales.db') });
    });

    afterEach(async () => {
      await events.close();
      rmSync(dir, { recursive: true, force: true });
      await kind.tearDown();
    });

    it('does not apply again what another writer took in: an old binding never comes back over a newer end', async () => {
      const ahead = await kind.parcels();
      const behind = await kind.parcels();
      try {
        await ahead.record([{ trackingNumber: 'T1', caseId: 'c1' }], 1);
        await ahead.record([{ caseEnded: 'c1' }], 2);
        // The process that is behind replays position 1: applied, it would bind T1 to c1 again, open.
        await behind.record([{ trackingNumber: 'T1', caseId: 'c1' }], 1);
        expect(await behind.binding('T1')).toEqual({ caseId: 'c1', open: false });
        await behind.record([{ caseEnded: 'c1' }], 2);
        await behind.record([{ trackingNumber: 'T1', caseId: 'c2' }], 3);
        expect(await ahead.binding('T1')).toEqual({ caseId: 'c2', open: true });
        expect(await ahead.checkpoint()).toBe(3);
      } finally {
        await ahead.close();
        await behind.close();
      }
    });

    it('ends where one SQLite index ends when two projectors follow the same log into it', async () => {
      const event = (type: string, data: unknown) => ({ id: randomUUID(), type, data, metadata: {} });
      // A history where order matters: numbers reused once their cases end, and bindings refused while they are open.
      for (let i = 0; i < 60; i += 1) {
        const number = `T${i % 7}`;
        await events.append(`aftersales-c${i}`, [event(i % 2 ? 'PickupScheduled' : 'ReturnShipped', { carrier: 'sf', trackingNumber: number })], { expectedRevision: 'any' });
        if (i % 3 === 0) await events.append(`aftersales-c${i - (i % 6)}`, [event(i % 2 ? 'CaseClosed' : 'CaseCompleted', {})], { expectedRevision: 'any' });
      }
      const head = await events.headPosition();

      const reference = new SqliteParcelIndex({ path: join(dir, 'reference.db') });
      const shared = [await kind.parcels(), await kind.parcels()];
      const projectors = [new ParcelIndexProjector(events, reference), ...shared.map((index) => new ParcelIndexProjector(events, index))];
      try {
        await Promise.all(projectors.map((projector) => projector.onApplicationBootstrap()));
        for (const projector of projectors) expect(await projector.waitFor(head, 10_000)).toBe(true);
        for (let i = 0; i < 7; i += 1) {
          expect({ number: `T${i}`, binding: await shared[0].binding(`T${i}`) }).toEqual({ number: `T${i}`, binding: await reference.binding(`T${i}`) });
        }
        expect(await shared[1].checkpoint()).toBe(head);
      } finally {
        for (const projector of projectors) await projector.onModuleDestroy();
        await reference.close();
        for (const index of shared) await index.close();
      }
    });
  });
}
