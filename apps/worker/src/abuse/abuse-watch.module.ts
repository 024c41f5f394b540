import { Module, type DynamicModule } from '@nestjs/common';
import { ApplicationModule, BuyerFlagsService } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { ReadModelsModule } from '@aftersales/read-models';
import { AbuseWatch } from './abuse-watch';
import { AbuseWatchMetrics } from './abuse-watch-metrics';

/** The abuse watch with what it reads (the abuse report on its own read store connection, the buyer flags) and its series in /metrics. */
@Module({})
export class AbuseWatchModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AbuseWatchModule,
      imports: [ApplicationModule, ReadModelsModule.forRoot(config)],
      providers: [BuyerFlagsService, AbuseWatch, AbuseWatchMetrics],
      exports: [AbuseWatch],
    };
  }
}
