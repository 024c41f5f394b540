import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@aftersales/event-store';
import { ObservedEventStore, type AppendObserver } from './observed-event-store';
import { APP_CONFIG, APPEND_OBSERVER, EVENT_STORE } from './tokens';

export const eventStoreProvider: Provider = {
  provide: EVENT_STORE,
  inject: [APP_CONFIG, { token: APPEND_OBSERVER, optional: true }],
  useFactory: (config: AppConfig, observer?: AppendObserver): EventStore => {
    const store =
      config.eventStore.kind === 'eventstoredb'
        ? new EventStoreDbEventStore({ connectionString: config.eventStore.connectionString })
        : new SqliteEventStore({ path: config.eventStore.sqlitePath });
    return observer ? new ObservedEventStore(store, observer) : store;
  },
};

@Injectable()
export class EventStoreShutdown implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
