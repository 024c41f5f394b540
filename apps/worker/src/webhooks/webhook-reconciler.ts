import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, PeriodicPass } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { reconcileWebhooks, WebhookQueue, WebhookStore, type WebhookReconcileReport } from '@aftersales/scheduling';
import { WEBHOOK_QUEUE_SERVICE } from './webhook.tokens';

/** Delivered rows are kept this long (to answer a receiver asking what was sent), then forgotten. */
const KEEP_DELIVERED_MS = 7 * 86_400_000;

/**
 * Re-creates the delivery jobs Redis lost, at start and then on the
 * worker's reconcile timer in this process (not a job in the Redis it
 * repairs), and forgets old delivered rows.
 */
@Injectable()
export class WebhookReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookReconciler.name);
  readonly totals = { passes: 0, failedPasses: 0, recreated: 0, pendingChains: 0 };
  private readonly pass = new PeriodicPass(
    async () => {
      this.store.pruneDelivered(Date.now() - KEEP_DELIVERED_MS);
      return reconcileWebhooks(this.store, this.queue);
    },
    {
      done: (report: WebhookReconcileReport) => {
        this.totals.passes += 1;
        this.totals.recreated += report.recreated;
        this.totals.pendingChains = report.pending;
        if (report.recreated > 0) this.logger.warn(`re-created ${report.recreated} of ${report.pending} webhook delivery jobs missing from Redis`);
      },
      failed: (error) => {
        this.totals.failedPasses += 1;
        this.logger.warn(`webhook reconciliation failed: ${error.message}`);
      },
    },
  );

  constructor(
    private readonly store: WebhookStore,
    @Inject(WEBHOOK_QUEUE_SERVICE) private readonly queue: WebhookQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.pass.start(this.config.worker.reconcileIntervalMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.pass.stop();
  }

  /** One pass; concurrent calls share it. */
  runOnce(): Promise<WebhookReconcileReport> {
    return this.pass.runOnce();
  }
}
