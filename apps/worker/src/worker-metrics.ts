import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { METRICS_REGISTRY, OrderRepairPass } from '@aftersales/application';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { QUEUE_NAMES, type WorkQueues } from '@aftersales/scheduling';
import { CaseWorkReactor } from './case-work.reactor';
import { WorkReconciler } from './work-reconciler';
import { WORK_QUEUES } from './worker.tokens';
import type { EventStore } from '@aftersales/event-store';
import { EVENT_STORE } from '@aftersales/application';

/**
 * The worker's series in the process's /metrics (when an API runs in the
 * same process): queue depths by state, lateness from due time to done,
 * failures, reactor lag, the reconciler's and the repair pass's totals.
 */
@Injectable()
export class WorkerMetrics implements OnModuleInit {
  lateness?: Histogram<'queue'>;
  failures?: Counter<'queue'>;
  errors?: Counter<'queue'>;

  constructor(
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry: Registry | undefined,
    @Inject(WORK_QUEUES) private readonly queues: WorkQueues,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly reactor: CaseWorkReactor,
    private readonly reconciler: WorkReconciler,
    private readonly repair: OrderRepairPass,
  ) {}

  onModuleInit(): void {
    const registry = this.registry;
    if (!registry) return;
    const queues = this.queues;
    new Gauge({
      name: 'worker_queue_jobs',
      help: 'Jobs in each queue by state (delayed, waiting, active, failed)',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        for (const name of QUEUE_NAMES) {
          const counts = await queues.queue(name).getJobCounts('delayed', 'waiting', 'active', 'failed');
          for (const [state, count] of Object.entries(counts)) this.set({ queue: name, state }, count);
        }
      },
    });
    this.lateness = new Histogram({
      name: 'worker_job_lateness_seconds',
      help: 'Time from when a job was due to when it finished, by queue',
      labelNames: ['queue'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.failures = new Counter({ name: 'worker_job_failures_total', help: 'Job attempts that failed, by queue', labelNames: ['queue'] as const, registers: [registry] });
    this.errors = new Counter({
      name: 'worker_errors_total',
      help: "Errors a queue's worker reported outside a job's own outcome (a job's lock lost under load, Redis gone), by queue",
      labelNames: ['queue'] as const,
      registers: [registry],
    });
    const { follower } = this.reactor;
    const store = this.store;
    new Gauge({
      name: 'worker_reactor_lag_events',
      help: 'Events in the log the case work reactor has not taken in yet',
      registers: [registry],
      async collect() {
        this.set(Math.max(0, (await store.headPosition()) - follower.checkpoint));
      },
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
    const reconciled = this.reconciler.totals;
    gauge('worker_pending_work', 'Pending work in the durable table at the last reconciliation', () => reconciled.pending);
    gauge('worker_reconciler_recreated_jobs', 'Jobs the reconciler re-created because Redis had lost them, since start', () => reconciled.recreated);
    gauge('worker_reconciler_scheduled_jobs', 'Jobs the reconciler added for work that came inside the schedule horizon, since start', () => reconciled.scheduled);
    gauge('worker_reconciler_failed_passes', 'Reconciliation passes that failed since start', () => this.reconciler.failedPasses);
    const repaired = this.repair.totals;
    gauge('order_repair_watched_pairs', 'Order/case pairs whose order still holds lines or reserves money for the case', () => repaired.watching);
    gauge('order_repair_passes', 'Repair passes completed since the process started', () => repaired.passes);
    gauge('order_repair_failed_passes', 'Repair passes that failed since the process started', () => repaired.failedPasses);
    gauge('order_repair_abandoned_requests', 'Case ids fenced with RequestAbandoned since the process started', () => repaired.abandoned);
  }
}
