import { LogFollower, type EventStore, type StoredEvent } from '@aftersales/event-store';
import type { Projection } from '../projections/projection';
import type { ReadStore } from '../store/read-store';
import { lockedCheckpoint, prepareProjection, storeCheckpoint } from './checkpoints';
import type { ProjectionLock } from './projection-lock';

export interface ProjectionRunnerOptions {
  /** At most this many events per transaction (default 1000). */
  maxBatch?: number;
  /** Pause before resuming from the stored checkpoint after a failed batch (default 1 s). */
  retryDelayMs?: number;
  onError?: (projection: string, error: Error) => void;
  onStateChange?: (projection: string, state: 'active' | 'waiting' | 'stopped') => void;
}

/**
 * Runs one projection in this process: waits for its lock, then follows the
 * event log from the projection's checkpoint and stores each batch's rows
 * and the checkpoint in one transaction. A crash redoes a batch whole or not
 * at all; the subscription only yields durable events (the store's rule).
 */
export class ProjectionRunner {
  private follower?: LogFollower;
  private stopped = false;
  private running?: Promise<void>;
  private wakeStop: () => void = () => undefined;
  private readonly stopping = new Promise<void>((resolve) => (this.wakeStop = resolve));
  private position = 0;
  /** Events applied since this runner started, for metrics. */
  applied = 0;

  constructor(
    private readonly store: ReadStore,
    private readonly events: EventStore,
    readonly projection: Projection,
    private readonly lock: ProjectionLock,
    private readonly options: ProjectionRunnerOptions = {},
  ) {}

  /** The position this process last stored for the projection (0 while waiting for the lock). */
  get checkpoint(): number {
    return this.follower?.checkpoint ?? this.position;
  }

  get active(): boolean {
    return this.follower !== undefined;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops after the batch in hand and hands the lock over. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeStop();
    await this.running;
  }

  /** True once this process has stored `position` (false while another process runs the projection). */
  async waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.follower ? this.follower.waitFor(position, timeoutMs) : false;
  }

  /** Resolves once the projection has caught up with the log as it was when it became active here. */
  async caughtUp(): Promise<void> {
    while (!this.follower && !this.stopped) await new Promise((resolve) => setTimeout(resolve, 10));
    await this.follower?.caughtUp;
  }

  private async run(): Promise<void> {
    const { name } = this.projection;
    try {
      while (!this.stopped) {
        this.options.onStateChange?.(name, 'waiting');
        if (!(await this.lock.acquire(() => this.stopped))) break;
        try {
          this.position = await prepareProjection(this.store.db, this.projection, this.store.dialect);
          const follower = new LogFollower(this.events, {
            name: `projection ${name}`,
            eventTypes: this.projection.eventTypes,
            maxBatch: this.options.maxBatch ?? 1000,
            retryDelayMs: this.options.retryDelayMs ?? 1000,
            checkpoint: () => this.storedCheckpoint(),
            handle: (events, position) => this.applyBatch(events, position),
            onError: (error) => this.options.onError?.(name, error),
          });
          this.follower = follower;
          follower.start();
          this.options.onStateChange?.(name, 'active');
          await Promise.race([this.lock.lost, this.stopping]);
          this.position = follower.checkpoint;
          this.follower = undefined;
          await follower.stop();
        } catch (error) {
          this.options.onError?.(name, error as Error);
          await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs ?? 1000).unref());
        } finally {
          await this.lock.release();
        }
      }
    } finally {
      await this.lock.release();
      this.options.onStateChange?.(name, 'stopped');
    }
  }

  private async storedCheckpoint(): Promise<number> {
    const row = await this.store.db.selectFrom('rm_checkpoints').select('position').where('name', '=', this.projection.name).executeTakeFirst();
    return row?.position ?? 0;
  }

  /**
   * One transaction: the lock is still ours, the events not yet applied
   * (above the stored checkpoint) go in, and the checkpoint moves to `position`.
   */
  private async applyBatch(events: StoredEvent[], position: number): Promise<void> {
    const { projection, store } = this;
    await store.db.transaction().execute(async (trx) => {
      await this.lock.fence(trx);
      const stored = (await lockedCheckpoint(trx, projection.name, store.dialect)) ?? 0;
      const fresh = events.filter((e) => e.position > stored);
      if (fresh.length > 0) await projection.apply(trx, fresh, store.dialect);
      if (position > stored) await storeCheckpoint(trx, projection.name, projection.version, position);
      this.applied += fresh.length;
    });
  }
}
