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
   */
  read(position: number, maxCount: number): { events: StoredEvent[]; scannedTo: number };
  onClose(subscription: PullSubscription): void;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A subscription that reads the log itself: batches from the checkpoint
 * until a read comes back empty (caught up), then waits for `notify()` (an
 * in-process commit) or the poll interval (a commit by another process).
 * Because it only ever asks for events after the last one it yielded, it
 * cannot skip or repeat one, whatever wakes it.
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
    wake?.();
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
        const { events: batch, scannedTo } = this.options.read(from, this.options.batchSize);
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
        // Only a read that found nothing proves nothing is left: events may
        // have been committed while the consumer handled the last batch.
        // Between two reads the event loop gets a turn: catching up on a long
        // log is otherwise one unbroken chain of microtasks that holds the
        // thread (timers, I/O, HTTP) until the very last batch.
        if (this.position > from) {
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
