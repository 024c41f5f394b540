import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import type { EventStore } from '@aftersales/event-store';
import { EVENT_STORE } from '../infrastructure/tokens';
import { IDEMPOTENCY_STORE, type IdempotencyStore } from './idempotency-store';
import { SqliteIdempotencyStore } from './sqlite-idempotency-store';

@Injectable()
class IdempotencyStoreShutdown implements OnApplicationShutdown {
  constructor(@Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * The idempotency store for the configured deployment. Records live in the
 * SQLite file beside the events whatever the event store is, since that file
 * is always configured and survives restarts; a PostgreSQL store can take
 * its place for several API hosts.
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
          useFactory: (events: EventStore): IdempotencyStore => {
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
