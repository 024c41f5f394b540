import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAcceptedSignatureStore, SqliteParcelIndex } from '@aftersales/application';

describe('integration stores in the SQLite file', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-integrations-'));
    path = join(dir, 'aftersales.db');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('remembers an accepted signature across a restart, and forgets it after the retention', async () => {
    const now = Date.now();
    const first = new SqliteAcceptedSignatureStore({ path });
    expect(await first.accept('sig-a', now)).toBe(true);
    expect(await first.accept('sig-a', now)).toBe(false);
    await first.close();

    const restarted = new SqliteAcceptedSignatureStore({ path, purgeIntervalMs: 0 });
    expect(await restarted.accept('sig-a', now + 1000)).toBe(false);
    expect(await restarted.accept('sig-b', now + 1000)).toBe(true);
    // Past the 10 minute retention the record is purged; its timestamp would be refused anyway.
    expect(await restarted.accept('sig-a', now + 11 * 60_000)).toBe(true);
    await restarted.close();
  });

  it('answers an accepted signature only once the log is on disk, without an fsync on the event loop', async () => {
    let release!: () => void;
    let syncs = 0;
    const walSync = {
      sync: () => {
        syncs += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
      close: () => undefined,
    };
    const store = new SqliteAcceptedSignatureStore({ path, walSync });
    let answered: boolean | undefined;
    const accepting = store.accept('sig-a', Date.now()).then((fresh) => (answered = fresh));
    await new Promise((resolve) => setImmediate(resolve));
    expect(syncs).toBe(1);
    expect(answered).toBeUndefined(); // held until the fsync returns
    // A replay meanwhile is refused at once, with no fsync of its own.
    expect(await store.accept('sig-a', Date.now())).toBe(false);
    release();
    await accepting;
    expect(answered).toBe(true);
    expect(syncs).toBe(1);
    await store.close();
  });

  it('keeps parcel entries and the checkpoint across a restart; the checkpoint never moves back', async () => {
    const index = new SqliteParcelIndex({ path });
    expect(await index.checkpoint()).toBe(0);
    await index.record([{ trackingNumber: 'T1', caseId: 'c1' }], 5);
    await index.record([], 3);
    await index.close();

    const restarted = new SqliteParcelIndex({ path });
    expect(await restarted.caseFor('T1')).toBe('c1');
    expect(await restarted.caseFor('T2')).toBeUndefined();
    expect(await restarted.checkpoint()).toBe(5);
    await restarted.close();
  });
});
