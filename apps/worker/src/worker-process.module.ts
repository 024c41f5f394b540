import { Module, type DynamicModule } from '@nestjs/common';
import { InfrastructureModule } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { WorkerModule } from './worker.module';

/**
 * The worker role with the infrastructure it stands on (configuration, event
 * store, Redis): what a worker process, or a worker thread of `npm start`,
 * runs. In the API's own module tree the API provides the infrastructure.
 */
@Module({})
export class WorkerProcessModule {
  static register(config: AppConfig): DynamicModule {
    return { module: WorkerProcessModule, imports: [InfrastructureModule.forRoot(config), WorkerModule.register(config)] };
  }
}
