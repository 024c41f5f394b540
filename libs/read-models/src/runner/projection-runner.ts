import { LogFollower, type EventStore, type StoredEvent } from '@aftersales/event-store';
import type { AnyProjection } from '../projections/projection';
import type { ReadStore } from '../store/read-store';
import { writeTransaction } from '../store/write-transaction';
import { checkpointForUpdate, prepareProjection, readCheckpoint, storeCheckpoint } from './checkpoints';
import { LockLostError, type ProjectionLock } from './projection-lock';
import { withSettledSubscriptions } from './settled-subscriptions';

/** The checkpoint moved under a batch (another writer): it is dropped and the follower resumes from the stored one. */
export class CheckpointMovedError extends Error {
  constructor(name: string, expected: number, found: number) {
    super(`Projection ${name}: checkpoint at ${found}, expected ${expected}`);
    this.name = 'CheckpointMovedError';
  }
}

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
    readonly projection: AnyProjection,
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

  /** True once this process has stored `position`; false after `timeoutMs` (another process may be running the projection). */
  async waitFor(position: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.follower) {
      if (this.stopped || Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.follower.waitFor(position, Math.max(0, deadline - Date.now()));
  }

  /** Resolves once the projection has caught up with the log as it was when it became active here. */
  async caughtUp(): Promise<void> {
    while (!this.follower && !this.stopped) await new Promise((resolve) => setTimeout(resolve, 10));
    if (this.follower) await Promise.race([this.follower.caughtUp, this.stopping]);
  }

  private async run(): Promise<void> {
    const { name } = this.projection;
    try {
      while (!this.stopped) {
        this.options.onStateChange?.(name, 'waiting');
        if (!(await this.lock.acquire(() => this.stopped))) break;
        try {
          this.position = await prepareProjection(this.store, this.projection);
          const follower = new LogFollower(withSettledSubscriptions(this.events), {
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
    this.position = await readCheckpoint(this.store.db, this.projection.name);
    return this.position;
  }

  private async applyBatch(events: StoredEvent[], position: number): Promise<void> {
    // A backlog's batches would otherwise follow one another in microtasks
    // (SQLite answers synchronously) and starve the process's other work,
    // such as the API's requests when the projector runs beside it.
    await new Promise((resolve) => setImmediate(resolve));
    const expected = this.position;
    this.applied += await storeBatch(this.store, this.projection, { expected, position, events }, this.lock);
    this.position = Math.max(expected, position);
  }
}

/**
 * Loads what the batch changes, then one transaction: the lock (if any) is
 * still ours, the checkpoint is still `expected` (the one the load followed),
 * the rows go in and the checkpoint moves to `position`. Returns how many
 * events were applied (those above `expected`).
 */
export async function storeBatch(
  store: ReadStore,
  projection: AnyProjection,
  batch: { expected: number; position: number; events: readonly StoredEvent[] },
  lock?: ProjectionLock,
): Promise<number> {
  const { db } = store;
  const { expected, position } = batch;
  const fresh = batch.events.filter((e) => e.position > expected);
  const statements = fresh.length > 0 ? projection.write(db, fresh, await projection.load(db, fresh)) : [];
  const fence = lock?.fenceStatement();
  const readCheckpointRow = checkpointForUpdate(db, projection.name, store.dialect);
  const moveCheckpoint = position > expected ? storeCheckpoint(db, projection.name, projection.version, position) : undefined;
  await writeTransaction(store, function* () {
    if (fence && (yield fence).changed === 0) {
      lock?.markLost();
      throw new LockLostError(projection.name);
    }
    if (lock && !lock.held) throw new LockLostError(projection.name);
    const stored = Number((yield readCheckpointRow).rows[0]?.position ?? 0);
    if (stored !== expected) throw new CheckpointMovedError(projection.name, expected, stored);
    for (const statement of statements) yield statement;
    if (moveCheckpoint) yield moveCheckpoint;
  });
  return fresh.length;
}
