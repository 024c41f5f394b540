import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import type { EventStore } from '@aftersales/event-store';
import { EVENT_STORE } from '../infrastructure/tokens';
import { IDEMPOTENCY_STORE, type IdempotencyStore } from './idempotency-store';
import { PostgresIdempotencyStore } from './postgres-idempotency-store';
import { SqliteIdempotencyStore } from './sqlite-idempotency-store';

@Injectable()
class IdempotencyStoreShutdown implements OnApplicationShutdown {
  constructor(@Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * The idempotency store for the configured deployment. With
 * `READ_STORE=postgres` records live in PostgreSQL, so every API process
 * (on any machine) shares them. Otherwise they live in the SQLite file
 * beside the events whatever the event store is, since that file is always
 * configured and survives restarts.
 */
@Global()
@Module({})
export class IdempotencyModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: IdempotencyModule,
      providers: [
        {
          provide: IDEMPOTENCY_STORE,
          inject: [EVENT_STORE],
          useFactory: async (events: EventStore): Promise<IdempotencyStore> => {
            if (config.readStore.kind === 'postgres') return PostgresIdempotencyStore.open({ databaseUrl: config.readStore.databaseUrl });
            const sameFile = config.eventStore.kind === 'sqlite';
            return new SqliteIdempotencyStore({
              path: config.eventStore.sqlitePath,
              // In the events' file, the event store's fsyncs of the log (durable()) cover these records
              // too: sharing them saves a second stream of fsyncs. A claim rides them only there.
              ...(sameFile ? { walSync: { sync: () => events.durable(), close: () => undefined } } : {}),
              durableClaims: !sameFile,
            });
          },
        },
        IdempotencyStoreShutdown,
      ],
      exports: [IDEMPOTENCY_STORE],
    };
  }
}
