import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, PeriodicPass } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { reconcileWork, WorkQueues, WorkStore, type ReconcileReport } from '@aftersales/scheduling';

/** How often the marker is looked at between passes (or each period, when that is shorter). */
const MARKER_WATCH_MS = 1000;

/**
 * Re-creates the jobs Redis lost (ARCHITECTURE.md rule 4) and adds the jobs
 * of work coming inside the schedule horizon, at start and then on a timer
 * in this process (not a repeatable job: that would live in the Redis it is
 * meant to repair).
 */
@Injectable()
export class WorkReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WorkReconciler.name);
  readonly totals = { recreated: 0, scheduled: 0, resubmitted: 0, pending: 0 };
  /** The latest due time this process's last completed pass covered: work due later that has no job has never had one. */
  private coveredUntil?: number;
  private readonly pass = new PeriodicPass(() => this.reconcile(), {
    done: (report) => {
      this.totals.recreated += report.recreated;
      this.totals.scheduled += report.scheduled;
      this.totals.resubmitted += report.resubmitted;
      this.totals.pending = report.pending + report.later;
      if (report.allLost && report.recreated > 0) this.logger.warn(`Redis had lost every job: re-created all ${report.recreated} pending jobs`);
      else if (report.recreated > 0) this.logger.warn(`re-created ${report.recreated} of ${report.pending} pending jobs missing from Redis`);
      if (report.resubmitted > 0) this.logger.warn(`sent ${report.resubmitted} refunds again: accepted by the payment centre but no outcome came back`);
    },
    failed: (error) => this.logger.warn(`reconciliation failed: ${error.message}`),
  });

  constructor(
    private readonly work: WorkStore,
    private readonly queues: WorkQueues,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private watch?: NodeJS.Timeout;
  private looking = false;

  get failedPasses(): number {
    return this.pass.counts.failedPasses;
  }

  onApplicationBootstrap(): void {
    const period = this.config.worker.reconcileIntervalMs;
    this.pass.start(period);
    // Between passes, a look at the pass marker (one EXISTS): a Redis that lost everything gets its jobs back now, not up to a period later.
    this.watch = setInterval(() => void this.passIfRedisLostEverything(), Math.min(MARKER_WATCH_MS, period));
    this.watch.unref();
  }

  onModuleDestroy(): Promise<void> {
    clearInterval(this.watch);
    return this.pass.stop();
  }

  private async passIfRedisLostEverything(): Promise<void> {
    if (this.looking) return;
    this.looking = true;
    try {
      if (!(await this.queues.hasMarker())) await this.runOnce();
    } catch {
      // Redis unreachable, or the pass failed (reported by the pass itself): the next look or period tries again.
    } finally {
      this.looking = false;
    }
  }

  private async reconcile(): Promise<ReconcileReport> {
    const horizonEnd = this.queues.horizonEnd();
    const report = await reconcileWork(this.work, this.queues, { horizonEnd, coveredUntil: this.coveredUntil });
    this.coveredUntil = horizonEnd;
    return report;
  }

  /** One pass over the pending work; concurrent calls share it. */
  runOnce(): Promise<ReconcileReport> {
    return this.pass.runOnce();
  }
}
