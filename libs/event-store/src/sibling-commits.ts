import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';

/** How soon a store with subscriptions looks again at its siblings' counters after one moved. */
export const FIRST_LOOK_MS = 5;
/** The longest it waits between looks while commits come now and then. */
export const LAST_LOOK_MS = 100;
/**
 * Looks in a row at LAST_LOOK_MS that found nothing before the store stops
 * looking and waits to be told (about a second and a half of quiet with the
 * ramp up to it). Shorter would post a wake-up message at the first commit
 * of every short lull, on the committing thread.
 */
export const QUIET_LOOKS_BEFORE_SLEEP = 12;

/** Int32 slots of a store's shared counter. */
const COMMITS = 0;
/** Non-zero: a sibling stopped looking and waits for a wake-up message at this store's next commit. */
const SLEEPERS = 1;

/**
 * What stores on one file say to each other: here is my counter (hello: and
 * tell me yours), I am gone, or I committed while one of you slept.
 */
type Message = { store: string; commits: SharedArrayBuffer; hello: boolean } | { store: string; bye: true } | { store: string; wake: true };

/** The timer the looks run on; a test counts and fires them itself. */
export interface LookTimer {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const unrefTimer: LookTimer = {
  set: (callback, ms) => setTimeout(callback, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Sibling {
  commits: Int32Array;
  /** The count last seen; -1 until first looked at, since a commit may come before the counters were exchanged. */
  seen: number;
}

/**
 * Tells the other stores on the same file in this process (the roles
 * `npm start` runs on threads of their own) that this one committed, and
 * hears when they did, without a message per commit.
 *
 * Each store keeps a commit counter in shared memory and gives it to the
 * others once, over a BroadcastChannel; a commit only increments it, and a
 * store with subscriptions looks at the others' counters every few
 * milliseconds. A message per commit (even one per 20 ms) cost the API's
 * event loop 4 to 5 % of its time: posting takes the receivers' locks and
 * waits whenever a receiving thread is descheduled holding one (up to
 * 120 ms on a loaded machine). Incrementing a counter never waits.
 *
 * While nothing moves the looks thin out, and after a quiet spell they stop
 * (an idle thread is not woken 10 times a second for nothing): the store
 * raises a flag in each sibling's shared memory, and the next commit of a
 * flagged sibling posts one wake-up message, after which the looks resume.
 * So a message is posted at most once per quiet spell, never per commit
 * while busy. The flag is raised before the last look and the committer
 * reads it after incrementing (both sequentially consistent), so either
 * the last look sees the commit or the committer sees the flag.
 */
export class SiblingCommits {
  private readonly id = randomUUID();
  private readonly channel: BroadcastChannel;
  private readonly own = new Int32Array(new SharedArrayBuffer(8));
  private readonly siblings = new Map<string, Sibling>();
  private timer: unknown;
  private lookEveryMs = FIRST_LOOK_MS;
  /** Looks in a row at LAST_LOOK_MS that found nothing. */
  private quietLooks = 0;
  private listening = false;
  private closed = false;

  /** `heard`: called when a sibling committed, while `listen` is on. */
  constructor(
    channelName: string,
    private readonly heard: () => void,
    private readonly timers: LookTimer = unrefTimer,
  ) {
    this.channel = new BroadcastChannel(channelName);
    // Listening must not keep a process alive that has nothing else to do.
    this.channel.unref();
    this.channel.onmessage = (event) => this.received((event as { data: Message }).data);
    this.say(true);
  }

  /** This store committed. */
  committed(): void {
    Atomics.add(this.own, COMMITS, 1);
    // One message for all sleepers (they all hear the channel), and only for the first commit after they slept.
    if (Atomics.load(this.own, SLEEPERS) !== 0 && Atomics.exchange(this.own, SLEEPERS, 0) !== 0) {
      this.channel.postMessage({ store: this.id, wake: true } satisfies Message);
    }
  }

  /** Whether the owner has anybody to tell (its subscriptions): only then are the siblings' counters looked at. */
  listen(on: boolean): void {
    this.listening = on;
    if (on) this.schedule(FIRST_LOOK_MS);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopLooking();
    this.channel.postMessage({ store: this.id, bye: true } satisfies Message);
    this.channel.close();
  }

  private say(hello: boolean): void {
    this.channel.postMessage({ store: this.id, commits: this.own.buffer as SharedArrayBuffer, hello } satisfies Message);
  }

  private received(message: Message): void {
    if (this.closed || !message || typeof message.store !== 'string') return;
    if ('bye' in message) {
      this.siblings.delete(message.store);
      return;
    }
    if ('wake' in message) {
      if (this.listening) this.schedule(0);
      return;
    }
    if (!this.siblings.has(message.store)) this.siblings.set(message.store, { commits: new Int32Array(message.commits), seen: -1 });
    // A newcomer has not heard of this store: answer it (not with a hello, or the two would answer each other for ever).
    if (message.hello) this.say(false);
    if (this.listening) this.schedule(FIRST_LOOK_MS);
  }

  private schedule(inMs: number): void {
    if (this.closed || this.siblings.size === 0) return;
    if (this.timer !== undefined && inMs >= this.lookEveryMs) return;
    this.stopLooking();
    this.lookEveryMs = inMs;
    this.timer = this.timers.set(this.look, inMs);
  }

  private stopLooking(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }

  private readonly look = (): void => {
    this.timer = undefined;
    if (this.closed || !this.listening) return;
    if (this.siblingsMoved()) {
      this.quietLooks = 0;
      this.heard();
      this.schedule(FIRST_LOOK_MS);
      return;
    }
    if (this.lookEveryMs >= LAST_LOOK_MS) this.quietLooks += 1;
    if (this.quietLooks < QUIET_LOOKS_BEFORE_SLEEP) {
      // Ever less often, up to LAST_LOOK_MS, while nothing moves.
      this.schedule(Math.min(LAST_LOOK_MS, Math.max(FIRST_LOOK_MS, this.lookEveryMs * 2)));
      return;
    }
    // Quiet for a while: ask every sibling for a message at its next commit, look once more, and stop looking.
    for (const sibling of this.siblings.values()) Atomics.store(sibling.commits, SLEEPERS, 1);
    if (this.siblingsMoved()) {
      this.quietLooks = 0;
      this.heard();
      this.schedule(FIRST_LOOK_MS);
    }
  };

  /** Whether any sibling's counter moved since the last look (and takes note of where they are). */
  private siblingsMoved(): boolean {
    let moved = false;
    for (const sibling of this.siblings.values()) {
      const count = Atomics.load(sibling.commits, COMMITS);
      if (count !== sibling.seen) {
        sibling.seen = count;
        moved = true;
      }
    }
    return moved;
  }
}
