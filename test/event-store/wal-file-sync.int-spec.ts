import Database from 'better-sqlite3';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalFileSync } from '@aftersales/event-store';

describe('WalFileSync', () => {
  let dir: string;
  let path: string;
  let db: Database.Database;
  let fsyncs: jest.SpyInstance;
  const realFsync = fs.fsync;
  const held: Array<() => void> = [];
  const release = (): void => held.shift()?.();
  const settled = (promise: Promise<unknown>): (() => boolean) => {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    return () => done;
  };
  // A turn of the event loop: a held fsync cannot complete in it, anything else that is due does.
  const aTurn = () => new Promise((resolve) => setImmediate(resolve));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-wal-sync-'));
    path = join(dir, 'events.db');
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    fsyncs = jest.spyOn(fs, 'fsync').mockImplementation(((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => realFsync(fd, callback));
    }) as typeof fs.fsync);
  });

  afterEach(() => {
    fsyncs.mockRestore();
    for (const run of held.splice(0)) run();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves only after an fsync that began after the call', async () => {
    const sync = new WalFileSync(path);
    const first = sync.sync();
    const firstDone = settled(first);
    expect(held).toHaveLength(1);
    // Asked while the first fsync runs: the first one may have missed what this caller wrote.
    const second = sync.sync();
    const secondDone = settled(second);
    expect(held).toHaveLength(1);

    release();
    await first;
    expect(secondDone()).toBe(false);
    expect(held).toHaveLength(1);

    release();
    await second;
    expect(firstDone()).toBe(true);
    expect(fsyncs).toHaveBeenCalledTimes(2);
    await sync.close();
  });

  it('lets every call made while an fsync runs share the next one', async () => {
    const sync = new WalFileSync(path);
    const running = sync.sync();
    const waiting = Array.from({ length: 5 }, () => sync.sync());
    release();
    await running;
    release();
    await Promise.all(waiting);

    expect(fsyncs).toHaveBeenCalledTimes(2);
    await sync.close();
  });

  it('fsyncs the -wal file, writable', async () => {
    const opens = jest.spyOn(fs, 'openSync');
    try {
      const sync = new WalFileSync(path);
      const pending = sync.sync();
      release();
      await pending;
      expect(opens).toHaveBeenCalledWith(`${path}-wal`, 'r+');
      await sync.close();
    } finally {
      opens.mockRestore();
    }
  });

  it('rejects every waiting and later call with the error of a failed fsync, and never tries again', async () => {
    fsyncs.mockImplementationOnce(((_fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      held.push(() => callback(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
    }) as typeof fs.fsync);
    const sync = new WalFileSync(path);
    const failing = sync.sync();
    const waiting = sync.sync();
    release();

    await expect(failing).rejects.toMatchObject({ code: 'EIO' });
    await expect(waiting).rejects.toMatchObject({ code: 'EIO' });
    await expect(sync.sync()).rejects.toMatchObject({ code: 'EIO' });
    expect(sync.failure).toMatchObject({ code: 'EIO' });
    expect(fsyncs).toHaveBeenCalledTimes(1);
    await sync.close();
  });

  it('resolves at once when the database has no log file, as nothing awaits an fsync', async () => {
    const sync = new WalFileSync(join(dir, 'never-opened.db'));
    await expect(sync.sync()).resolves.toBeUndefined();
    expect(fsyncs).not.toHaveBeenCalled();
    await sync.close();
  });

  it('closes after the fsyncs asked for, then refuses', async () => {
    const sync = new WalFileSync(path);
    const pending = sync.sync();
    const closing = sync.close();
    const closed = settled(closing);
    await aTurn();
    expect(closed()).toBe(false);

    release();
    await pending;
    await closing;
    await expect(sync.sync()).rejects.toThrow(/closed/);
  });

  it('syncs for real when nothing holds the disk back', async () => {
    fsyncs.mockRestore();
    const sync = new WalFileSync(path);
    db.prepare('INSERT INTO t VALUES (1)').run();
    await expect(sync.sync()).resolves.toBeUndefined();
    await sync.close();
  });
});
