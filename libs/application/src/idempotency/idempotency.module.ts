import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
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
          useFactory: (): IdempotencyStore =>
            // A claim rides the events' fsync only when they are in the same file.
            new SqliteIdempotencyStore({ path: config.eventStore.sqlitePath, durableClaims: config.eventStore.kind !== 'sqlite' }),
        },
        IdempotencyStoreShutdown,
      ],
      exports: [IDEMPOTENCY_STORE],
    };
  }
}
