import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { METRICS_REGISTRY } from '@aftersales/application';
import { Gauge, type Registry } from 'prom-client';
import { AbuseWatch } from './abuse-watch';

/**
 * The abuse watch in the process's /metrics (when an API runs in it):
 * buyers it flagged, passes done and failed, and how long the last pass
 * took, so a watch that stopped flagging, keeps failing or grows slow with
 * the report is seen without reading logs. Totals since the process started,
 * per process (several workers each run the watch).
 */
@Injectable()
export class AbuseWatchMetrics implements OnModuleInit {
  constructor(
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry: Registry | undefined,
    private readonly watch: AbuseWatch,
  ) {}

  onModuleInit(): void {
    const registry = this.registry;
    if (!registry) return;
    const totals = this.watch.totals;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
    gauge('abuse_watch_flagged_buyers', 'Buyers the abuse watch flagged since the process started', () => totals.flagged);
    gauge('abuse_watch_passes', 'Abuse watch passes completed since the process started', () => totals.passes);
    gauge('abuse_watch_failed_passes', 'Abuse watch passes that failed since the process started', () => totals.failedPasses);
    gauge('abuse_watch_last_pass_seconds', 'How long the last abuse watch pass took, done or failed', () => totals.lastPassSeconds);
  }
}
