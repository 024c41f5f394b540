import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import { AbuseQuery } from './queries/abuse.query';
import { AgentQueueQuery } from './queries/agent-queue.query';
import { AnalyticsQuery } from './queries/analytics.query';
import { CaseListQuery } from './queries/case-list.query';
import { CaseTimelineQuery } from './queries/case-timeline.query';
import { ProjectionProgress } from './queries/projection-progress';
import { migrateReadStore } from './store/migrations';
import { openReadStore, type ReadStore } from './store/read-store';

/** Injection token of the process's read store (Kysely over SQLite or PostgreSQL). */
export const READ_STORE = Symbol('READ_STORE');

@Injectable()
class ReadStoreShutdown implements OnApplicationShutdown {
  constructor(@Inject(READ_STORE) private readonly store: ReadStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

const fromStore = <T>(make: (store: ReadStore) => T) => ({ inject: [READ_STORE], useFactory: make });

/**
 * The read store named by `config.readStore`, migrated on open, and the
 * query services over it. Each importer gets its own connection (the API's
 * reads and the projector's writes never wait on one connection).
 */
@Module({})
export class ReadModelsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ReadModelsModule,
      providers: [
        {
          provide: READ_STORE,
          useFactory: async (): Promise<ReadStore> => {
            const store = openReadStore(config.readStore);
            try {
              await migrateReadStore(store);
              return store;
            } catch (error) {
              await store.close();
              throw error;
            }
          },
        },
        ReadStoreShutdown,
        { provide: CaseListQuery, ...fromStore((store) => new CaseListQuery(store)) },
        { provide: CaseTimelineQuery, ...fromStore((store) => new CaseTimelineQuery(store)) },
        { provide: AgentQueueQuery, ...fromStore((store) => new AgentQueueQuery(store)) },
        { provide: AnalyticsQuery, ...fromStore((store) => new AnalyticsQuery(store)) },
        { provide: AbuseQuery, ...fromStore((store) => new AbuseQuery(store)) },
        { provide: ProjectionProgress, ...fromStore((store) => new ProjectionProgress(store)) },
      ],
      exports: [READ_STORE, CaseListQuery, CaseTimelineQuery, AgentQueueQuery, AnalyticsQuery, AbuseQuery, ProjectionProgress],
    };
  }
}
