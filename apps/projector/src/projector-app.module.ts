import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import { APP_CONFIG, EVENT_STORE } from '@aftersales/application';
import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@aftersales/event-store';
import { ProjectorModule } from './projector.module';

@Injectable()
class EventStoreClose implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * The ports a projector alone needs: the configuration and the event store,
 * under the tokens InfrastructureModule uses. Not InfrastructureModule
 * itself, which also opens Redis, and a projector has no use for Redis.
 */
@Global()
@Module({})
class ProjectorPortsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ProjectorPortsModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        {
          provide: EVENT_STORE,
          useFactory: (): EventStore =>
            config.eventStore.kind === 'eventstoredb'
              ? new EventStoreDbEventStore({ connectionString: config.eventStore.connectionString })
              : new SqliteEventStore({ path: config.eventStore.sqlitePath }),
        },
        EventStoreClose,
      ],
      exports: [APP_CONFIG, EVENT_STORE],
    };
  }
}

/** The projector as a process of its own (main.ts). */
@Module({})
export class ProjectorAppModule {
  static register(config: AppConfig): DynamicModule {
    return { module: ProjectorAppModule, imports: [ProjectorPortsModule.forRoot(config), ProjectorModule.register(config)] };
  }
}
