import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';

/** How soon a store with subscriptions looks again at its siblings' counters after one moved. */
const FIRST_LOOK_MS = 5;
/** The longest it waits between looks while nothing moves (an idle service wakes rarely). */
const LAST_LOOK_MS = 100;

/** What stores on one file say to each other, once each: here is my counter (hello: and tell me yours), or I am gone. */
type Message = { store: string; commits: SharedArrayBuffer; hello: boolean } | { store: string; bye: true };

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
 */
export class SiblingCommits {
  private readonly id = randomUUID();
  private readonly channel: BroadcastChannel;
  private readonly own = new Int32Array(new SharedArrayBuffer(4));
  private readonly siblings = new Map<string, Sibling>();
  private timer: NodeJS.Timeout | undefined;
  private lookEveryMs = FIRST_LOOK_MS;
  private listening = false;
  private closed = false;

  /** `heard`: called when a sibling committed, while `listen` is on. */
  constructor(
    channelName: string,
    private readonly heard: () => void,
  ) {
    this.channel = new BroadcastChannel(channelName);
    // Listening must not keep a process alive that has nothing else to do.
    this.channel.unref();
    this.channel.onmessage = (event) => this.received((event as { data: Message }).data);
    this.say(true);
  }

  /** This store committed. */
  committed(): void {
    Atomics.add(this.own, 0, 1);
  }

  /** Whether the owner has anybody to tell (its subscriptions): only then are the siblings' counters looked at. */
  listen(on: boolean): void {
    this.listening = on;
    if (on) this.schedule(FIRST_LOOK_MS);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
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
    if (!this.siblings.has(message.store)) this.siblings.set(message.store, { commits: new Int32Array(message.commits), seen: -1 });
    // A newcomer has not heard of this store: answer it (not with a hello, or the two would answer each other for ever).
    if (message.hello) this.say(false);
    if (this.listening) this.schedule(FIRST_LOOK_MS);
  }

  private schedule(inMs: number): void {
    if (this.closed || this.siblings.size === 0) return;
    if (this.timer && inMs >= this.lookEveryMs) return;
    clearTimeout(this.timer);
    this.lookEveryMs = inMs;
    this.timer = setTimeout(this.look, inMs);
    this.timer.unref();
  }

  private readonly look = (): void => {
    this.timer = undefined;
    if (this.closed || !this.listening) return;
    let moved = false;
    for (const sibling of this.siblings.values()) {
      const count = Atomics.load(sibling.commits, 0);
      if (count !== sibling.seen) {
        sibling.seen = count;
        moved = true;
      }
    }
    if (moved) this.heard();
    // Soon again while commits come in; ever less often, up to LAST_LOOK_MS, while none do.
    this.schedule(moved ? FIRST_LOOK_MS : Math.min(LAST_LOOK_MS, this.lookEveryMs * 2));
  };
}
