import type { EventStore, EventSubscription, StoredEvent } from './event-store';

export interface LogFollowerOptions {
  /** For log lines: which consumer this is. */
  name: string;
  /** Only these event types are handed over; the others only move the checkpoint. */
  eventTypes?: readonly string[];
  /** The consumer's stored checkpoint: events strictly after it are handed over. Read at start and after every failure. */
  checkpoint: () => Promise<number>;
  /**
   * Takes one batch, in global order, and must store `position` as the
   * consumer's checkpoint together with what it makes of the events (one
   * transaction), so a crash redoes a batch whole or not at all. `events`
   * may be empty when only the checkpoint moved (events of other types were
   * passed over); `position` is at least the last event's.
   */
  handle: (events: StoredEvent[], position: number) => Promise<void>;
  /** At most this many events per batch (default 500). */
  maxBatch?: number;
  /**
   * After a batch, wait this long (ms) for more events before taking the
   * next one, unless a full batch is already there (default 0: take at once).
   * For a consumer whose batches cost mostly per batch (a write transaction
   * on a file the log's writers need too): a quick one would otherwise take
   * the log an event or two at a time.
   */
  gatherMs?: number;
  /** Pause after a failure before resubscribing from the stored checkpoint (default 1 s). */
  retryDelayMs?: number;
  onError?: (error: Error, resumingAfter: number) => void;
}

interface Waiter {
  position: number;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

type Item = StoredEvent | { passedTo: number };

const isEvent = (item: Item): item is StoredEvent => 'streamName' in item;

/**
 * Follows the event log from a consumer's own checkpoint and hands it the
 * events in batches: whatever arrived while the previous batch was being
 * handled, up to `maxBatch`. One subscription, one batch at a time, the
 * checkpoint stored by the consumer with its effects: at-least-once
 * delivery, so a consumer is idempotent by position (or by event).
 *
 * A subscription only yields events that are durable (the port's rule), so
 * nothing a power cut could take back is ever acted on.
 */
export class LogFollower {
  private position = 0;
  private stopped = true;
  private running?: Promise<void>;
  private subscription?: EventSubscription;
  private readonly buffer: Item[] = [];
  private wakeTaker?: () => void;
  private wakeFeeder?: () => void;
  private readonly waiters = new Set<Waiter>();
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  private readonly gatherMs: number;
  /** Ends a gathering wait early (a stop). */
  private stopWake?: () => void;
  private caughtUpOnce?: Promise<void>;
  private resolveCaughtUp?: () => void;
  /** Events handed over since start, for metrics. */
  handled = 0;

  constructor(
    private readonly store: EventStore,
    private readonly options: LogFollowerOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.gatherMs = options.gatherMs ?? 0;
  }

  /** The global position the consumer has taken in (its checkpoint as last stored). */
  get checkpoint(): number {
    return this.position;
  }

  /** Resolves once every event that existed at start has been handled (and stays resolved). */
  get caughtUp(): Promise<void> {
    this.caughtUpOnce ??= new Promise((resolve) => (this.resolveCaughtUp = resolve));
    return this.caughtUpOnce;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.caughtUp;
    this.running = this.run();
  }

  /** Stops after the batch being handled, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWake?.();
    this.wakeTaker?.();
    this.wakeFeeder?.();
    await this.subscription?.close();
    await this.running;
    for (const waiter of this.waiters) this.settle(waiter, false);
  }

  /** Resolves true once the consumer has handled everything up to `position`, false after `timeoutMs` or a stop. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { position, resolve, timer: setTimeout(() => this.settle(waiter, false), timeoutMs) };
      this.waiters.add(waiter);
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.position = await this.options.checkpoint();
        this.buffer.length = 0;
        await this.follow();
      } catch (error) {
        if (this.stopped) return;
        this.options.onError?.(error as Error, this.position);
        await this.subscription?.close().catch(() => undefined);
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs).unref());
    }
  }

  /** Feeds the subscription into the buffer while batches are taken from it; either failing ends both. */
  private async follow(): Promise<void> {
    const subscription = this.store.subscribeToAll({ after: this.position, eventTypes: this.options.eventTypes });
    this.subscription = subscription;
    if (this.stopped) return subscription.close();
    subscription.onCheckpoint((position) => this.push({ passedTo: position }));
    let fed = false;
    const feeding = (async () => {
      try {
        for await (const event of subscription) {
          this.push(event);
          if (this.buffer.length >= this.maxBatch * 2) await new Promise<void>((resolve) => (this.wakeFeeder = resolve));
        }
      } finally {
        fed = true;
        this.wakeTaker?.();
      }
    })();
    // A subscription closed before it caught up (a stop, a failed batch) rejects caughtUp: nothing to mark then.
    subscription.caughtUp.then(
      () => this.push({ passedTo: -1 }),
      () => undefined,
    );
    const taking = this.take(() => fed);
    // Whichever fails first ends the other: the subscription is closed and both settle.
    const endBoth = async (error: unknown): Promise<never> => {
      await subscription.close();
      this.wakeFeeder?.();
      throw error;
    };
    await Promise.all([feeding.catch(endBoth), taking.catch(endBoth)]);
  }

  private push(item: Item): void {
    this.buffer.push(item);
    this.wakeTaker?.();
  }

  private async take(fed: () => boolean): Promise<void> {
    let caughtUpSeen = false;
    while (!this.stopped) {
      if (this.buffer.length === 0) {
        if (fed()) return;
        await new Promise<void>((resolve) => (this.wakeTaker = resolve));
        this.wakeTaker = undefined;
        continue;
      }
      const items = this.buffer.splice(0, this.maxBatch);
      this.wakeFeeder?.();
      this.wakeFeeder = undefined;
      const events = items.filter(isEvent);
      let position = this.position;
      for (const item of items) {
        if (isEvent(item)) position = Math.max(position, item.position);
        else if (item.passedTo === -1) caughtUpSeen = true;
        else position = Math.max(position, item.passedTo);
      }
      if (events.length > 0 || position > this.position) {
        await this.options.handle(events, position);
        this.handled += events.length;
        this.advance(position);
        if (this.gatherMs > 0 && this.buffer.length < this.maxBatch) await this.gather();
      }
      if (caughtUpSeen) this.resolveCaughtUp?.();
    }
  }

  /** Lets events pile up for `gatherMs`; a stop ends the wait. */
  private gather(): Promise<void> {
    return new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.stopWake = undefined;
        resolve();
      };
      const timer = setTimeout(end, this.gatherMs);
      this.stopWake = end;
    });
  }

  private advance(position: number): void {
    this.position = position;
    for (const waiter of this.waiters) if (waiter.position <= position) this.settle(waiter, true);
  }

  private settle(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.resolve(reached);
  }
}
