import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, PeriodicPass } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { reconcileWork, WorkQueues, WorkStore, type ReconcileReport } from '@aftersales/scheduling';

/**
 * Re-creates the jobs Redis lost (ARCHITECTURE.md rule 4), at start and then
 * on a timer in this process (not a repeatable job: that would live in the
 * Redis it is meant to repair).
 */
@Injectable()
export class WorkReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WorkReconciler.name);
  readonly totals = { recreated: 0, resubmitted: 0, pending: 0 };
  private readonly pass = new PeriodicPass(() => reconcileWork(this.work, this.queues), {
    done: (report) => {
      this.totals.recreated += report.recreated;
      this.totals.resubmitted += report.resubmitted;
      this.totals.pending = report.pending;
      if (report.recreated > 0) this.logger.warn(`re-created ${report.recreated} of ${report.pending} pending jobs missing from Redis`);
      if (report.resubmitted > 0) this.logger.warn(`sent ${report.resubmitted} refunds again: accepted by the payment centre but no outcome came back`);
    },
    failed: (error) => this.logger.warn(`reconciliation failed: ${error.message}`),
  });

  constructor(
    private readonly work: WorkStore,
    private readonly queues: WorkQueues,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get failedPasses(): number {
    return this.pass.counts.failedPasses;
  }

  onApplicationBootstrap(): void {
    this.pass.start(this.config.worker.reconcileIntervalMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass over the pending work; concurrent calls share it. */
  runOnce(): Promise<ReconcileReport> {
    return this.pass.runOnce();
  }
}
