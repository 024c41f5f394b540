import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { FIRST_LOOK_MS, SiblingCommits, type LookTimer } from '../../libs/event-store/src/sibling-commits';

/**
 * An idle store stops looking at its siblings' counters (no timer left at
 * all) and is woken by the first commit after the quiet spell; while busy,
 * commits post no message. The looks run on a timer the test holds and
 * fires itself, so it counts them without waiting for wall time.
 */
class HeldTimer implements LookTimer {
  pending: { callback: () => void; ms: number } | undefined;
  fired = 0;

  set(callback: () => void, ms: number): unknown {
    this.pending = { callback, ms };
    return this.pending;
  }

  clear(handle: unknown): void {
    if (this.pending === handle) this.pending = undefined;
  }

  fire(): void {
    const due = this.pending;
    if (!due) throw new Error('no look is due');
    this.pending = undefined;
    this.fired += 1;
    due.callback();
  }
}

/** Lets messages between the two (delivered on the event loop) arrive; no time limit is asserted. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('SiblingCommits: an idle store', () => {
  const opened: SiblingCommits[] = [];
  afterEach(() => {
    jest.restoreAllMocks();
    for (const siblings of opened.splice(0)) siblings.close();
  });

  function pair() {
    const channel = `sibling-commits-idle:${randomUUID()}`;
    const timer = new HeldTimer();
    let heard = 0;
    const reader = new SiblingCommits(channel, () => (heard += 1), timer);
    const writer = new SiblingCommits(channel, () => undefined);
    opened.push(reader, writer);
    return { reader, writer, timer, heard: () => heard };
  }

  /** Fires looks until none is scheduled (or gives up): how many it took. */
  function looksUntilAsleep(timer: HeldTimer, limit = 1_000): number {
    let looks = 0;
    while (timer.pending && looks < limit) {
      timer.fire();
      looks += 1;
    }
    return looks;
  }

  it('stops looking after a quiet spell, and the next commit wakes it at once', async () => {
    const { reader, writer, timer, heard } = pair();
    reader.listen(true);
    await until(() => timer.pending !== undefined);
    timer.fire(); // the first look takes note of the writer's counter
    const heardBefore = heard();

    // Nothing committed: the looks thin out and stop, well within the limit.
    const looks = looksUntilAsleep(timer);
    expect(looks).toBeLessThan(30);
    expect(timer.pending).toBeUndefined();
    expect(heard()).toBe(heardBefore);

    // The first commit after the quiet spell posts one message; the reader looks at once.
    writer.committed();
    await until(() => timer.pending !== undefined);
    expect(timer.pending?.ms).toBe(0);
    timer.fire();
    expect(heard()).toBe(heardBefore + 1);
    // Awake again: it looks soon, as while commits come in.
    expect(timer.pending?.ms).toBe(FIRST_LOOK_MS);
  });

  it('posts no message for commits while its siblings are awake, and one per quiet spell', async () => {
    const { reader, writer, timer, heard } = pair();
    reader.listen(true);
    await until(() => timer.pending !== undefined);
    timer.fire();
    const posted = jest.spyOn(BroadcastChannel.prototype, 'postMessage');

    for (let i = 0; i < 20; i++) {
      writer.committed();
      timer.fire();
    }
    expect(posted).not.toHaveBeenCalled();
    const heardBusy = heard();

    looksUntilAsleep(timer);
    expect(timer.pending).toBeUndefined();
    writer.committed();
    writer.committed();
    writer.committed();
    expect(posted).toHaveBeenCalledTimes(1);
    await until(() => timer.pending !== undefined);
    timer.fire();
    expect(heard()).toBe(heardBusy + 1);
  });

  it('does not sleep through a commit made just before its last look', async () => {
    // How many looks a quiet reader makes before it sleeps, learnt from a first pair.
    const quiet = pair();
    quiet.reader.listen(true);
    await until(() => quiet.timer.pending !== undefined);
    quiet.timer.fire();
    const looks = looksUntilAsleep(quiet.timer);

    const { reader, writer, timer, heard } = pair();
    reader.listen(true);
    await until(() => timer.pending !== undefined);
    timer.fire();
    for (let i = 0; i < looks - 1; i++) timer.fire();
    const heardBefore = heard();
    writer.committed();
    // The look that would have put it to sleep sees the commit instead.
    timer.fire();
    expect(heard()).toBe(heardBefore + 1);
    expect(timer.pending?.ms).toBe(FIRST_LOOK_MS);
  });
});
