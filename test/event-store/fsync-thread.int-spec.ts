import fs, { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsyncThread } from '../../libs/event-store/src/fsync-thread';
import { WalFileSync } from '@aftersales/event-store';

/**
 * The fsync of the write-ahead log runs on a thread of its own, asked and
 * answered through shared counters: libuv's pool, whose lock every thread's
 * file work shares, is not touched by the event loop for it.
 */
describe('FsyncThread', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fsync-thread-'));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  const fsynced = (thread: FsyncThread) => new Promise<Error | undefined>((resolve) => thread.fsync(resolve));

  it('fsyncs, one call after another, and stops on close', async () => {
    const fd = fs.openSync(join(dir, 'file'), 'w');
    const thread = new FsyncThread(fd);
    for (let i = 0; i < 20; i++) {
      fs.writeSync(fd, 'x');
      expect(await fsynced(thread)).toBeUndefined();
    }
    await thread.close();
    fs.closeSync(fd);
  });

  it('reports a failed fsync, and every later call fails with it', async () => {
    // A descriptor far above any this process opened: fsync fails with EBADF.
    const thread = new FsyncThread(999_999);
    const first = await fsynced(thread);
    expect(first).toMatchObject({ code: 'EBADF' });
    expect(await fsynced(thread)).toBe(first);
    await thread.close();
  });

  it('is what WalFileSync uses unless fs.fsync was replaced', async () => {
    const path = join(dir, 'events.db');
    fs.writeFileSync(`${path}-wal`, 'frames');
    const sync = new WalFileSync(path);
    const onThread = jest.spyOn(FsyncThread.prototype, 'fsync');
    await Promise.all([sync.sync(), sync.sync()]);
    await sync.sync();
    expect(onThread).toHaveBeenCalled();
    await sync.close();
  });

  /** Until the thread says it sleeps (it has nothing left to do); no clock involved. */
  const asleep = async (thread: FsyncThread): Promise<void> => {
    const state = (thread as unknown as { state: Int32Array }).state;
    while (Atomics.load(state, 3) !== 1) await new Promise((resolve) => setImmediate(resolve));
  };

  it('is woken for an fsync asked for while it sleeps, not left to find it (no wait of its own before an fsync starts)', async () => {
    const fd = fs.openSync(join(dir, 'file'), 'w');
    const thread = new FsyncThread(fd);
    expect(await fsynced(thread)).toBeUndefined();
    const wakes = jest.spyOn(Atomics, 'notify');
    for (let i = 0; i < 20; i++) {
      await asleep(thread);
      fs.writeSync(fd, 'x');
      expect(await fsynced(thread)).toBeUndefined();
    }
    // One wake of the thread (index 0: the request count) per request made while it slept; its own notices to the event loop are on another thread.
    expect(wakes.mock.calls.filter(([, index]) => index === 0)).toHaveLength(20);
    wakes.mockRestore();
    await thread.close();
    fs.closeSync(fd);
  });

  it('answers every request outstanding at once, each with an fsync that began after it', async () => {
    const fd = fs.openSync(join(dir, 'file'), 'w');
    const thread = new FsyncThread(fd);
    const answered: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) => new Promise<Error | undefined>((resolve) => thread.fsync((error) => {
      answered.push(i);
      resolve(error);
    })));
    // The last request is answered no earlier than the others, which were counted before it.
    expect(await all[4]).toBeUndefined();
    expect(answered.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await Promise.all(all)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    await thread.close();
    fs.closeSync(fd);
  });
});
