import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import type { EventStore } from '@aftersales/event-store';
import { APP_CONFIG, EVENT_STORE } from '../infrastructure/tokens';
import { ACCEPTED_SIGNATURES, SqliteAcceptedSignatureStore, type AcceptedSignatureStore } from './accepted-signatures';
import { CallbackTargets } from './callback-targets';
import { PARCEL_INDEX, SqliteParcelIndex, type ParcelIndex } from './parcel-index';
import { PostgresAcceptedSignatureStore } from './postgres-accepted-signatures';
import { PostgresParcelIndex } from './postgres-parcel-index';
import { ParcelIndexProjector } from './parcel-index.projector';
import { TrackingNumbers } from './tracking-numbers';
import { ApplicationModule } from '../application.module';

@Injectable()
class IntegrationStoresShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(ACCEPTED_SIGNATURES) private readonly signatures: AcceptedSignatureStore,
    @Inject(PARCEL_INDEX) private readonly index: ParcelIndex,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.signatures.close();
    await this.index.close();
  }
}

/**
 * What the signed integration callbacks need: the accepted-signature store,
 * the parcel index and the subscriber that keeps it, and the lookup of a
 * callback's case, and the check that keeps a tracking number to the first
 * open case that registered it. With `READ_STORE=postgres` both live in
 * PostgreSQL, shared by every API process; otherwise in the SQLite file
 * beside the events whatever the event store is, as the idempotency records
 * do. Needs InfrastructureModule (APP_CONFIG, EVENT_STORE).
 */
@Module({
  // PolicyService and Clock, for the tracking-number check.
  imports: [ApplicationModule],
  providers: [
    {
      provide: ACCEPTED_SIGNATURES,
      inject: [APP_CONFIG, EVENT_STORE],
      useFactory: async (config: AppConfig, events: EventStore): Promise<AcceptedSignatureStore> => {
        if (config.readStore.kind === 'postgres') return PostgresAcceptedSignatureStore.open({ databaseUrl: config.readStore.databaseUrl });
        // In the events' file the event store's fsyncs of the log (durable(): one that starts after the call) cover
        // these records too: one stream of fsyncs for the file rather than two, as the idempotency records do.
        const sameFile = config.eventStore.kind === 'sqlite';
        return new SqliteAcceptedSignatureStore({
          path: config.eventStore.sqlitePath,
          ...(sameFile ? { walSync: { sync: () => events.durable(), close: () => undefined } } : {}),
        });
      },
    },
    {
      provide: PARCEL_INDEX,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<ParcelIndex> =>
        config.readStore.kind === 'postgres'
          ? PostgresParcelIndex.open({ databaseUrl: config.readStore.databaseUrl })
          : new SqliteParcelIndex({ path: config.eventStore.sqlitePath }),
    },
    ParcelIndexProjector,
    CallbackTargets,
    TrackingNumbers,
    IntegrationStoresShutdown,
  ],
  exports: [ACCEPTED_SIGNATURES, CallbackTargets, TrackingNumbers],
})
export class IntegrationsModule {}
