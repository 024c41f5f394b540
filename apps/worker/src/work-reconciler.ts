import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '@aftersales/application';
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
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReconcileReport>;
  readonly totals = { passes: 0, failedPasses: 0, recreated: 0, resubmitted: 0, pending: 0 };

  constructor(
    private readonly work: WorkStore,
    private readonly queues: WorkQueues,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const pass = () => void this.runOnce().catch((error: Error) => this.logger.warn(`reconciliation failed: ${error.message}`));
    this.timer = setInterval(pass, this.config.worker.reconcileIntervalMs);
    this.timer.unref();
    pass();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over the pending work; concurrent calls share it. */
  runOnce(): Promise<ReconcileReport> {
    this.running ??= reconcileWork(this.work, this.queues)
      .then(
        (report) => {
          this.totals.passes += 1;
          this.totals.recreated += report.recreated;
          this.totals.resubmitted += report.resubmitted;
          if (report.resubmitted > 0) this.logger.warn(`sent ${report.resubmitted} refunds again: accepted by the payment centre but no outcome came back`);
          this.totals.pending = report.pending;
          if (report.recreated > 0) this.logger.warn(`re-created ${report.recreated} of ${report.pending} pending jobs missing from Redis`);
          return report;
        },
        (error: unknown) => {
          this.totals.failedPasses += 1;
          throw error;
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
