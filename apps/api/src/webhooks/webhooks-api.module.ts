import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, ApplicationModule } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import { WebhookStore } from '@aftersales/scheduling';
import { WebhookSubscriptions } from './webhook-subscriptions';
import { WebhooksController } from './webhooks.controller';

@Injectable()
class WebhookStoreShutdown implements OnApplicationShutdown {
  constructor(private readonly store: WebhookStore) {}
  onApplicationShutdown(): void {
    this.store.close();
  }
}

/**
 * The webhook routes (admin). Reads the delivery tables the worker's webhook
 * reactor keeps in the service's SQLite file (its own connection); writes
 * only events.
 */
@Module({
  imports: [ApplicationModule],
  controllers: [WebhooksController],
  providers: [
    { provide: WebhookStore, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new WebhookStore(config.eventStore.sqlitePath) },
    WebhookStoreShutdown,
    WebhookSubscriptions,
  ],
})
export class WebhooksApiModule {}
