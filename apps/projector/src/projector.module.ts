import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import { ReadModelsModule } from '@aftersales/read-models';
import { PROJECTOR_OPTIONS, ProjectorService, type ProjectorOptions } from './projector.service';

/**
 * The projector role: every projection, following the event log into the
 * read store. It does NOT import InfrastructureModule: the host provides
 * it once (`InfrastructureModule.forRoot(config)`, global: EVENT_STORE,
 * APP_CONFIG), so the projector can run beside the API in one process on
 * the API's event store, or alone (main.ts).
 */
@Module({})
export class ProjectorModule {
  static register(config: AppConfig, options: ProjectorOptions = {}): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [ReadModelsModule.forRoot(config)],
      providers: [{ provide: PROJECTOR_OPTIONS, useValue: options }, ProjectorService],
      exports: [ProjectorService],
    };
  }
}
