import { Module, type DynamicModule } from '@nestjs/common';
import { ApplicationModule } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { ReadModelsModule } from '@aftersales/read-models';
import { AnalyticsController } from './analytics.controller';
import { CaseQueriesController } from './case-queries.controller';
import { ProjectionMetrics } from './projection-metrics';
import { QueuesController } from './queues.controller';
import { ReadYourWrites } from './read-your-writes';

/**
 * The query routes answered from read models. Needs ApiModule's global edge
 * and InfrastructureModule; re-exports the read store so /health can probe it.
 */
@Module({})
export class QueriesApiModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: QueriesApiModule,
      // ApplicationModule for the Clock (analytics' default period ends now).
      imports: [ApplicationModule, ReadModelsModule.forRoot(config)],
      controllers: [CaseQueriesController, QueuesController, AnalyticsController],
      providers: [ReadYourWrites, ProjectionMetrics],
      exports: [ReadModelsModule],
    };
  }
}
