import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Job } from 'bullmq';
import type { JobData } from '@aftersales/scheduling';
import { WorkerMetrics } from './worker-metrics';
import { DeadlineProcessor } from './processors/deadline.processor';
import { PickupProcessor } from './processors/pickup.processor';
import { RefundProcessor } from './processors/refund.processor';
import { InsuranceProcessor } from './processors/insurance.processor';
import { WebhookDeliveryProcessor } from './webhooks/webhook-delivery.processor';


/** Records every finished or failed job in the metrics and the log, whichever processor ran it. */
@Injectable()
export class JobEvents implements OnApplicationBootstrap {
  private readonly logger = new Logger('Jobs');

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly metrics: WorkerMetrics,
  ) {}

  onApplicationBootstrap(): void {
    for (const type of [DeadlineProcessor, PickupProcessor, RefundProcessor, InsuranceProcessor]) {
      const worker = this.moduleRef.get(type, { strict: false }).worker;
      const queue = worker.name;
      worker.on('completed', (job: Job<JobData>) => {
        this.metrics.lateness?.observe({ queue }, Math.max(0, Date.now() - job.data.dueAt) / 1000);
      });
      worker.on('failed', (job: Job<JobData> | undefined, error: Error) => {
        this.metrics.failures?.inc({ queue });
        this.logger.warn(`${queue} job ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${error.message}`);
      });
      worker.on('error', (error: Error) => this.workerError(queue, error));
    }
    const webhooks = this.moduleRef.get(WebhookDeliveryProcessor, { strict: false }).worker;
    webhooks.on('error', (error: Error) => this.workerError(webhooks.name, error));
  }

  /**
   * Without a listener BullMQ prints these to stderr as bare stack traces.
   * The usual one is a job whose lock lapsed while the worker was swamped
   * (a backlog of overdue deadlines after a restart): BullMQ hands it out
   * again, and running it twice has no second effect (decide ignores a
   * deadline that is no longer current; payments carry the refund id).
   */
  private workerError(queue: string, error: Error): void {
    this.metrics.errors?.inc({ queue });
    this.logger.warn(`${queue} worker: ${error.message}`);
  }
}
