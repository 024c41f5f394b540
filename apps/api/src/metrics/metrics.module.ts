import { Global, Module } from '@nestjs/common';
import { APPEND_OBSERVER, METRICS_REGISTRY } from '@aftersales/application';
import { MetricsAccessCheck } from './metrics-access';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** Global so any route or command module can record into the one registry. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    MetricsService,
    MetricsAccessCheck,
    { provide: APPEND_OBSERVER, useExisting: MetricsService },
    { provide: METRICS_REGISTRY, inject: [MetricsService], useFactory: (metrics: MetricsService) => metrics.registry },
  ],
  exports: [MetricsService, APPEND_OBSERVER, METRICS_REGISTRY],
})
export class MetricsModule {}
