import type { Transaction } from 'kysely';
import type { StoredEvent } from '@aftersales/event-store';
import type { ReadStoreDialect } from '../store/read-store';
import type { ReadModelTables } from '../store/tables';

/**
 * One read model: the tables it owns and how a batch of events changes them.
 * The runner calls `apply` inside the transaction that also stores the
 * projection's checkpoint, with events in global order, each event at most
 * once per checkpoint (events at or below it are filtered out first).
 */
export interface Projection {
  name: string;
  /** Bump when the tables' shape or meaning changes: the tables are recreated and filled again from the log. */
  version: number;
  /** The event types `apply` reads; the others only move the checkpoint. */
  eventTypes: readonly string[];
  /** The tables it owns, dropped when its version changes. */
  tables: readonly (keyof ReadModelTables)[];
  createTables(trx: Transaction<ReadModelTables>, dialect: ReadStoreDialect): Promise<void>;
  apply(trx: Transaction<ReadModelTables>, events: readonly StoredEvent[], dialect: ReadStoreDialect): Promise<void>;
}
