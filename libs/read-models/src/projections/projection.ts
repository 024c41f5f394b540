import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { StoredEvent } from '@aftersales/event-store';
import type { ReadModelTables } from '../store/tables';

/**
 * One read model: the tables it owns and how a batch of events changes
 * them, in two steps. `load` reads what the batch needs (the rows it will
 * change) before the write transaction; `write` returns the statements that
 * the runner runs in one transaction with the projection's checkpoint. The
 * runner only stores them if the checkpoint is still the one `load` read
 * after, so what was loaded is what is changed.
 *
 * `db` builds statements (and, in `load`, reads); events come in global
 * order, each above the checkpoint, once per batch.
 */
export interface Projection<Loaded = unknown> {
  name: string;
  /** Bump when the tables' shape or meaning changes: the tables are recreated and filled again from the log. */
  version: number;
  /** The event types it reads; the others only move the checkpoint. */
  eventTypes: readonly string[];
  /** The tables it owns, dropped when its version changes. */
  tables: readonly (keyof ReadModelTables)[];
  createTables(db: Kysely<ReadModelTables>): Compilable[];
  /** Secondary indexes, created apart from the tables so a rebuild fills its tables first and indexes them at the swap. */
  indexes(db: Kysely<ReadModelTables>): Compilable[];
  load(db: Kysely<ReadModelTables>, events: readonly StoredEvent[]): Promise<Loaded>;
  /** The statements, compiled (store/row-statements.ts builds each table's SQL once and reuses it). */
  write(db: Kysely<ReadModelTables>, events: readonly StoredEvent[], loaded: Loaded): CompiledQuery[];
}

/** A projection with its loaded type checked, kept in lists of any projection. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any>;

export const defineProjection = <Loaded>(projection: Projection<Loaded>): AnyProjection => projection;
