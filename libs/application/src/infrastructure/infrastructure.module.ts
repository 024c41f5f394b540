import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import { EventStoreShutdown, eventStoreProvider } from './event-store.provider';
import { RedisShutdown, redisProvider } from './redis.provider';
import { APP_CONFIG, EVENT_STORE, REDIS } from './tokens';

/**
 * The ports every process role shares (configuration, event store, Redis),
 * created once per process from the validated configuration.
 */
@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: InfrastructureModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, eventStoreProvider, redisProvider, EventStoreShutdown, RedisShutdown],
      exports: [APP_CONFIG, EVENT_STORE, REDIS],
    };
  }
}
