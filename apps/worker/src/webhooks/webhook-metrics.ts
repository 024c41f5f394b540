import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { EVENT_STORE, METRICS_REGISTRY } from '@aftersales/application';
import type { EventStore } from '@aftersales/event-store';
import { WebhookQueue, WebhookStore } from '@aftersales/scheduling';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookReactor } from './webhook.reactor';
import { WebhookReconciler } from './webhook-reconciler';
import { WEBHOOK_QUEUE_SERVICE } from './webhook.tokens';

/**
 * Outbound webhooks in the process's /metrics (when an API runs in it):
 * deliveries by status (dead letters waiting for an admin among them),
 * jobs in the queue by state, send results, lateness from due to sent,
 * reactor lag, reconciler totals.
 */
@Injectable()
export class WebhookMetrics implements OnModuleInit {
  constructor(
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry: Registry | undefined,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly store: WebhookStore,
    @Inject(WEBHOOK_QUEUE_SERVICE) private readonly queue: WebhookQueue,
    private readonly processor: WebhookDeliveryProcessor,
    private readonly reactor: WebhookReactor,
    private readonly reconciler: WebhookReconciler,
  ) {}

  onModuleInit(): void {
    const registry = this.registry;
    if (!registry) return;
    const store = this.store;
    new Gauge({
      name: 'webhook_deliveries',
      help: 'Webhook deliveries in the durable table by status (pending, delivered and kept, dead letters)',
      labelNames: ['status'] as const,
      registers: [registry],
      collect() {
        for (const [status, count] of Object.entries(store.counts())) this.set({ status }, count);
      },
    });
    const { queue } = this.queue;
    new Gauge({
      name: 'webhook_queue_jobs',
      help: 'Jobs in the webhooks queue by state (delayed, waiting, active, failed)',
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        const counts = await queue.getJobCounts('delayed', 'waiting', 'active', 'failed');
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
    const results = new Counter({
      name: 'webhook_delivery_results_total',
      help: 'Webhook delivery jobs by result (delivered, retrying, dead, stale)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    const lateness = new Histogram({
      name: 'webhook_delivery_lateness_seconds',
      help: 'Time from when a webhook send was due to when it was answered',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.processor.onResult = (result, job) => {
      results.inc({ result });
      if (result !== 'stale') lateness.observe(Math.max(0, Date.now() - job.dueAt) / 1000);
    };
    const { follower } = this.reactor;
    const events = this.events;
    new Gauge({
      name: 'webhook_reactor_lag_events',
      help: 'Events in the log the webhook reactor has not taken in yet',
      registers: [registry],
      async collect() {
        this.set(Math.max(0, (await events.headPosition()) - follower.checkpoint));
      },
    });
    const totals = this.reconciler.totals;
    new Gauge({
      name: 'webhook_reconciler_recreated_jobs',
      help: 'Webhook delivery jobs the reconciler re-created because Redis had lost them, since start',
      registers: [registry],
      collect() {
        this.set(totals.recreated);
      },
    });
  }
}
