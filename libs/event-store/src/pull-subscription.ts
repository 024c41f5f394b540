import { SubscriptionDroppedError } from './errors';
import type { EventSubscription, StoredEvent } from './event-store';

export interface PullSubscriptionOptions {
  /** Checkpoint: the subscription yields events strictly after it. */
  after: number;
  batchSize: number;
  /** Upper bound on how long a caught-up subscription waits before looking again. */
  pollIntervalMs: number;
  /**
   * Events strictly after `position`, in global order, at most `maxCount`,
   * and how far the read looked: the last event's position, or further when
   * it passed over events a filter left out (`position`: it found nothing).
   * `reachedEnd`: the read looked as far as the log went when it ran (it
   * was not cut short by `maxCount` or a scan window).
   */
  read(position: number, maxCount: number): { events: StoredEvent[]; scannedTo: number; reachedEnd: boolean };
  onClose(subscription: PullSubscription): void;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A subscription that reads the log itself: batches from the checkpoint
 * until a read reaches the log's end (caught up), then waits for `notify()`
 * (an in-process commit) or the poll interval (a commit by another process).
 * Because it only ever asks for events after the last one it yielded, it
 * cannot skip or repeat one, whatever wakes it.
 *
 * A read that reached the end is not followed by another to prove that
 * nothing is left (under load that second read, nearly always empty, was
 * half of every wake-up's reads): a commit made after the read began calls
 * `notify()`, which is remembered while nobody waits, so the next wait
 * ends at once and nothing committed meanwhile is left lying.
 */
export class PullSubscription implements EventSubscription {
  readonly caughtUp: Promise<void>;
  private resolveCaughtUp!: () => void;
  private rejectCaughtUp!: (error: Error) => void;
  private caughtUpSettled = false;
  private closed = false;
  private iterated = false;
  private position: number;
  private wake: (() => void) | undefined;
  /** A notify() came while nobody waited (the events were being read or handed over): look again before waiting. */
  private notified = false;
  private readonly checkpointListeners: Array<(position: number) => void> = [];

  constructor(private readonly options: PullSubscriptionOptions) {
    this.position = options.after;
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.resolveCaughtUp = resolve;
      this.rejectCaughtUp = reject;
    });
    // Closing before catching up rejects `caughtUp`; nobody has to await it.
    this.caughtUp.catch(() => undefined);
  }

  onCheckpoint(listener: (position: number) => void): void {
    this.checkpointListeners.push(listener);
  }

  /** Called after a local commit: a waiting subscription reads again at once. */
  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    if (wake) wake();
    else this.notified = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.caughtUpSettled) {
      this.caughtUpSettled = true;
      this.rejectCaughtUp(new Error('The subscription was closed before it caught up'));
    }
    this.options.onClose(this);
    this.notify();
  }

  [Symbol.asyncIterator](): AsyncIterator<StoredEvent> {
    if (this.iterated) throw new Error('A subscription can be iterated only once');
    this.iterated = true;
    return this.events();
  }

  private async *events(): AsyncGenerator<StoredEvent> {
    try {
      while (!this.closed) {
        const from = this.position;
        // Cleared before the read: a commit the read may miss notifies afterwards.
        this.notified = false;
        const { events: batch, scannedTo, reachedEnd } = this.options.read(from, this.options.batchSize);
        for (const event of batch) {
          if (this.closed) return;
          this.position = event.position;
          yield event;
        }
        if (this.closed) return;
        // The consumer has taken every event yielded so far: what the read passed over is behind it too.
        if (scannedTo > this.position) {
          this.position = scannedTo;
          for (const listener of this.checkpointListeners) listener(scannedTo);
        }
        // A read cut short leaves more to read; one that reached the end leaves
        // only what was committed since, and such a commit notifies. Between two
        // reads the event loop gets a turn: catching up on a long log is
        // otherwise one unbroken chain of microtasks that holds the thread
        // (timers, I/O, HTTP) until the very last batch.
        if (!reachedEnd && this.position > from) {
          await nextTurn();
          continue;
        }
        if (!this.caughtUpSettled) {
          this.caughtUpSettled = true;
          this.resolveCaughtUp();
        }
        await this.nextSignal();
      }
    } catch (error) {
      // A read that fails ends the subscription: the consumer resubscribes from its checkpoint.
      const dropped = new SubscriptionDroppedError(`reading the log failed: ${(error as Error).message}`, error);
      if (!this.caughtUpSettled) {
        this.caughtUpSettled = true;
        this.rejectCaughtUp(dropped);
      }
      throw dropped;
    } finally {
      await this.close();
    }
  }

  private nextSignal(): Promise<void> {
    if (this.notified || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        if (this.wake === wake) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, this.options.pollIntervalMs);
      this.wake = wake;
    });
  }
}
