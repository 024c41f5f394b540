import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { OrderRepairPass } from '@aftersales/application';
import { MetricsService } from './metrics.service';

/**
 * The repair pass in /metrics: how many order/case pairs still owe
 * something, how many passes ran or failed, and how many case ids were
 * fenced because their request never wrote them (each one is a crash or a
 * failure worth looking into).
 */
@Injectable()
export class RepairMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly repair: OrderRepairPass,
  ) {}

  onModuleInit(): void {
    const { totals } = this.repair;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers: [this.metrics.registry], collect() { this.set(read()); } });
    gauge('order_repair_watched_pairs', 'Order/case pairs whose order still holds lines or reserves money for the case', () => totals.watching);
    gauge('order_repair_passes', 'Repair passes completed since the process started', () => totals.passes);
    gauge('order_repair_failed_passes', 'Repair passes that failed since the process started', () => totals.failedPasses);
    gauge('order_repair_abandoned_requests', 'Case ids fenced with RequestAbandoned since the process started', () => totals.abandoned);
  }
}
