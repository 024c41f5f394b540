import { Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG, ApplicationModule, OrderRepairPass, REDIS } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { IntegrationsModule } from '@aftersales/integrations';
import { bullConnection, QUEUE_NAMES, WorkQueues, WorkStore, type QueueName } from '@aftersales/scheduling';
import { AbuseWatchModule } from './abuse/abuse-watch.module';
import { CaseWorkReactor } from './case-work.reactor';
import { JobEvents } from './job-events';
import { DeadlineProcessor } from './processors/deadline.processor';
import { InsuranceProcessor } from './processors/insurance.processor';
import { PickupProcessor } from './processors/pickup.processor';
import { RefundProcessor } from './processors/refund.processor';

import { RedisPolicyCheck } from './redis-policy-check';
import { SystemCommands } from './system-commands';
import { WorkReconciler } from './work-reconciler';
import { WorkerMetrics } from './worker-metrics';
import { WebhooksWorkerModule } from './webhooks/webhooks-worker.module';
import { WORK_QUEUES } from './worker.tokens';

@Injectable()
class WorkStoreShutdown implements OnApplicationShutdown {
  constructor(private readonly store: WorkStore) {}
  onApplicationShutdown(): void {
    this.store.close();
  }
}

/**
 * The worker role (ARCHITECTURE.md, apps/worker): the case work reactor,
 * the reconciler, the BullMQ processors for deadlines, pickups, refunds and
 * insurance claims, and the order repair pass and the abuse watch on their
 * timers. Several worker processes may run against the same Redis and
 * event store: jobs are keyed by the work they do and every effect goes
 * through `decide`.
 *
 * The host provides InfrastructureModule (APP_CONFIG, EVENT_STORE, REDIS):
 * the API process in the embedded default, or apps/worker/src/main.ts.
 */
@Module({})
export class WorkerModule {
  static register(config: AppConfig): DynamicModule {
    if (!config.redisUrl) throw new Error('redisUrl must be resolved before the worker module is created');
    return {
      module: WorkerModule,
      imports: [
        ApplicationModule,
        IntegrationsModule.forRoot(config),
        BullModule.forRoot({ connection: bullConnection(config.redisUrl) }),
        ...QUEUE_NAMES.map((name) => BullModule.registerQueue({ name })),
        WebhooksWorkerModule,
        AbuseWatchModule.register(config),
      ],
      providers: [
        { provide: WorkStore, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new WorkStore(c.eventStore.sqlitePath) },
        WorkStoreShutdown,
        {
          provide: WORK_QUEUES,
          inject: [APP_CONFIG, REDIS, ...QUEUE_NAMES.map((name) => getQueueToken(name))],
          useFactory: (c: AppConfig, redis: Redis, ...queues: Queue[]) =>
            new WorkQueues(new Map(QUEUE_NAMES.map((name, i): [QueueName, Queue] => [name, queues[i]])), redis, Date.now, c.worker.scheduleHorizonMs),
        },
        { provide: WorkQueues, useExisting: WORK_QUEUES },
        SystemCommands,
        CaseWorkReactor,
        WorkReconciler,
        OrderRepairPass,
        DeadlineProcessor,
        PickupProcessor,
        RefundProcessor,
        InsuranceProcessor,
        WorkerMetrics,
        JobEvents,
        RedisPolicyCheck,
      ],
      exports: [WORK_QUEUES, WorkStore, CaseWorkReactor, WorkReconciler, OrderRepairPass],
    };
  }
}

