import { Module, type DynamicModule } from '@nestjs/common';
import { ApplicationModule, BuyerFlagsService } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { ReadModelsModule } from '@aftersales/read-models';
import { AbuseWatch } from './abuse-watch';

/** The abuse watch with what it reads: the abuse report (its own read store connection) and the buyer flags. */
@Module({})
export class AbuseWatchModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AbuseWatchModule,
      imports: [ApplicationModule, ReadModelsModule.forRoot(config)],
      providers: [BuyerFlagsService, AbuseWatch],
      exports: [AbuseWatch],
    };
  }
}
