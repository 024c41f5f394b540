import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { EVENT_STORE } from '@aftersales/application';
import type { EventStore } from '@aftersales/event-store';
import { PROJECTIONS, ProjectionRunner, READ_STORE, projectionLock, type LockTiming, type ReadStore } from '@aftersales/read-models';

export const PROJECTOR_OPTIONS = Symbol('PROJECTOR_OPTIONS');

export interface ProjectorOptions {
  /** Run only these projections (default: all). */
  projections?: readonly string[];
  /** Events per transaction (default 1000). */
  maxBatch?: number;
  /** How often a waiting projector tries for a lock, and how long a SQLite lease lasts. */
  lockTiming?: LockTiming;
  /** Pause before a failed batch is tried again from the stored checkpoint. */
  retryDelayMs?: number;
}

/**
 * Runs every projection in this process once the application has started,
 * each behind its own lock (several projector processes may run; one is
 * active per projection), and stops them before the event store closes.
 */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Projector');
  readonly runners: ProjectionRunner[];

  constructor(
    @Inject(EVENT_STORE) events: EventStore,
    @Inject(READ_STORE) store: ReadStore,
    @Inject(PROJECTOR_OPTIONS) options: ProjectorOptions,
  ) {
    const chosen = options.projections ? PROJECTIONS.filter((p) => options.projections?.includes(p.name)) : PROJECTIONS;
    this.runners = chosen.map(
      (projection) =>
        new ProjectionRunner(store, events, projection, projectionLock(store, projection.name, options.lockTiming), {
          maxBatch: options.maxBatch,
          retryDelayMs: options.retryDelayMs,
          onError: (name, error) => this.logger.warn({ projection: name, err: error.message }, `Projection ${name}: a batch failed; resuming from its checkpoint`),
          onStateChange: (name, state) => this.logger.log({ projection: name, state }, `Projection ${name}: ${state}`),
        }),
    );
  }

  onApplicationBootstrap(): void {
    for (const runner of this.runners) runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }

  /** Resolves once every projection this process runs has caught up with the log (tests, tools). */
  async caughtUp(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.caughtUp()));
  }
}
