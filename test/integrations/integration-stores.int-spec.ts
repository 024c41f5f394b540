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
