import { Global, Module } from '@nestjs/common';
import { APPEND_OBSERVER } from '@aftersales/application';
import { MetricsAccessCheck } from './metrics-access';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** Global so any route or command module can record into the one registry. */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, MetricsAccessCheck, { provide: APPEND_OBSERVER, useExisting: MetricsService }],
  exports: [MetricsService, APPEND_OBSERVER],
})
export class MetricsModule {}
