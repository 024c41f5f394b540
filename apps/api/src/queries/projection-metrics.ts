import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { EVENT_STORE } from '@aftersales/application';
import type { EventStore } from '@aftersales/event-store';
import { READ_STORE, readCheckpoints, type ReadStore } from '@aftersales/read-models';
import { MetricsService } from '../metrics/metrics.service';

/**
 * Each projection's stored position and its lag behind the log's head, in
 * /metrics, read from the read store when scraped: the projector may run in
 * another process.
 */
@Injectable()
export class ProjectionMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(READ_STORE) private readonly store: ReadStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
  ) {}

  onModuleInit(): void {
    const { store, events } = this;
    new Gauge({
      name: 'projection_lag_events',
      help: 'Global positions the log has beyond what each projection has stored (its lag, in events)',
      labelNames: ['projection'] as const,
      registers: [this.metrics.registry],
      async collect() {
        const [head, checkpoints] = await Promise.all([events.headPosition(), readCheckpoints(store.db)]);
        this.reset();
        for (const c of checkpoints) this.set({ projection: c.name }, Math.max(0, head - c.position));
      },
    });
    new Gauge({
      name: 'projection_position',
      help: 'The global position each projection has stored',
      labelNames: ['projection'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const c of await readCheckpoints(store.db)) this.set({ projection: c.name }, c.position);
      },
    });
  }
}
