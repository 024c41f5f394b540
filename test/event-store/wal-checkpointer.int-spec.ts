import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalCheckpointer } from '../../libs/event-store/src/wal-checkpointer';

describe('WalCheckpointer', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aftersales-checkpointer-'));
  });

  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('arms no timer while nothing is committed (an idle store is not woken), and one for a run of commits', async () => {
    const timeouts = jest.spyOn(global, 'setTimeout');
    const intervals = jest.spyOn(global, 'setInterval');
    const checkpointer = new WalCheckpointer(join(dir, 'events.db'), 60_000);
    expect(intervals).not.toHaveBeenCalled();
    expect(timeouts).not.toHaveBeenCalled();
    checkpointer.committed();
    checkpointer.committed();
    checkpointer.committed();
    expect(timeouts).toHaveBeenCalledTimes(1);
    await checkpointer.close();
  });

  it('starts no thread for a store that never commits, and closes at once', async () => {
    const checkpointer = new WalCheckpointer(join(dir, 'events.db'), 10);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await checkpointer.close();
    expect(checkpointer.stoppedBecause).toBeUndefined();
  });

  it('says why it stopped when its thread fails, and still closes', async () => {
    // No such folder: the thread cannot open the database.
    const checkpointer = new WalCheckpointer(join(dir, 'missing', 'events.db'), 10);
    checkpointer.committed();
    const deadline = Date.now() + 5_000;
    while (!checkpointer.stoppedBecause && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));

    // The thread's error comes from another realm: compared by its message, not its class.
    expect(checkpointer.stoppedBecause?.message).toMatch(/directory does not exist|unable to open/i);
    await expect(checkpointer.close()).resolves.toBeUndefined();
  });
});
