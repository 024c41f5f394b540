import {
  Kysely,
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type TableNode,
  type UnknownRow,
} from 'kysely';
import type { EventStore } from '@aftersales/event-store';
import type { AnyProjection } from '../projections/projection';
import { analyzeSqlite, type ReadStore } from '../store/read-store';
import type { ReadModelTables } from '../store/tables';
import { writeTransaction } from '../store/write-transaction';
import { checkpointForUpdate, storeCheckpoint } from './checkpoints';
import { storeBatch } from './projection-runner';

/** Where a rebuild's tables live until the swap: PostgreSQL a schema of their own, SQLite a suffix. */
const REBUILD_SCHEMA = 'rm_rebuild';
const REBUILD_SUFFIX = '__rebuild';

export interface RebuildProgress {
  /** Global position reached in the log. */
  position: number;
  /** The log's head when the rebuild looked last. */
  head: number;
  /** Events read from the log so far (every type). */
  eventsRead: number;
  eventsPerSecond: number;
  /** Seconds left at the current rate; undefined before there is a rate. */
  etaSeconds?: number;
}

export interface RebuildOptions {
  /** Events read from the log per batch (default 5000). */
  batchSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
}

export interface RebuildResult {
  position: number;
  eventsRead: number;
  seconds: number;
}

/** Points the projection's own tables somewhere else; every other table (rm_checkpoints, `excluded`) is left alone. */
class RelocateTables extends OperationNodeTransformer {
  constructor(
    private readonly owned: ReadonlySet<string>,
    private readonly to: (table: string) => { schema?: string; name: string },
  ) {
    super();
  }

  protected override transformTable(node: TableNode): TableNode {
    const name = node.table.identifier.name;
    if (!this.owned.has(name) || node.table.schema) return super.transformTable(node);
    const target = this.to(name);
    return {
      ...node,
      table: {
        ...node.table,
        identifier: { ...node.table.identifier, name: target.name },
        ...(target.schema ? { schema: { kind: 'IdentifierNode', name: target.schema } } : {}),
      },
    } as TableNode;
  }
}

class RelocateTablesPlugin implements KyselyPlugin {
  constructor(private readonly transformer: RelocateTables) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/**
 * Replays a projection from the whole event log into new tables while the
 * live ones keep serving (and the live runner keeps writing them), then
 * swaps them in one transaction: the old tables go, the new ones take their
 * names and indexes, and the projection's checkpoint becomes the rebuild's.
 * If the live projection has moved past the rebuild in the meantime, the
 * rebuild catches up again first. A live runner whose next batch then finds
 * the checkpoint moved resumes from it.
 */
export async function rebuildProjection(store: ReadStore, events: EventStore, projection: AnyProjection, options: RebuildOptions = {}): Promise<RebuildResult> {
  return rebuildProjections(store, events, [projection], options);
}

/** Several projections rebuilt in one pass over the log (each event read once), each swapped in as above. */
export async function rebuildProjections(store: ReadStore, events: EventStore, projections: readonly AnyProjection[], options: RebuildOptions = {}): Promise<RebuildResult> {
  const started = Date.now();
  const shadows: Shadow[] = [];
  for (const projection of projections) shadows.push(await prepareShadow(store, projection));
  const batchSize = options.batchSize ?? 5000;
  let position = 0;
  let eventsRead = 0;
  const report = (head: number) => {
    const seconds = (Date.now() - started) / 1000;
    const eventsPerSecond = seconds > 0 ? eventsRead / seconds : 0;
    const left = Math.max(0, head - position);
    options.onProgress?.({ position, head, eventsRead, eventsPerSecond, ...(eventsPerSecond > 0 ? { etaSeconds: left / eventsPerSecond } : {}) });
  };

  const catchUp = async (pending: readonly Shadow[]): Promise<void> => {
    const head = await events.headPosition();
    while (position < head) {
      const batch = await events.readAll({ after: position, maxCount: batchSize });
      if (batch.length === 0) break;
      const next = batch[batch.length - 1].position;
      for (const shadow of pending) {
        await storeBatch(store, shadow.projection, { expected: shadow.position, position: next, events: batch.filter((e) => shadow.types.has(e.type)) });
        shadow.position = next;
      }
      position = next;
      eventsRead += batch.length;
      report(head);
    }
    report(Math.max(head, position));
  };

  let pending = shadows;
  while (pending.length > 0) {
    await catchUp(pending);
    const behind: Shadow[] = [];
    for (const shadow of pending) if (!(await swap(store, shadow.live, shadow.projection.name, shadow.position))) behind.push(shadow);
    pending = behind;
  }
  // The swapped-in tables have no planner statistics yet (PostgreSQL's autovacuum gathers its own).
  if (store.sqlite) analyzeSqlite(store.sqlite, projections.flatMap((p) => p.tables));
  return { position, eventsRead, seconds: (Date.now() - started) / 1000 };
}

interface Shadow {
  live: AnyProjection;
  /** The projection writing into the rebuild's tables, under its own checkpoint name. */
  projection: AnyProjection;
  types: ReadonlySet<string>;
  position: number;
}

/** Empty rebuild tables (no indexes yet: those come with the swap) and a checkpoint at 0. */
async function prepareShadow(store: ReadStore, projection: AnyProjection): Promise<Shadow> {
  const owned = new Set<string>(projection.tables);
  const relocate =
    store.dialect === 'postgres'
      ? (name: string) => ({ schema: REBUILD_SCHEMA, name })
      : (name: string) => ({ name: `${name}${REBUILD_SUFFIX}` });
  const shadowDb: Kysely<ReadModelTables> = store.db.withPlugin(new RelocateTablesPlugin(new RelocateTables(owned, relocate)));
  const shadow: AnyProjection = {
    ...projection,
    name: `${projection.name}~rebuild`,
    load: (_db, batch) => projection.load(shadowDb, batch),
    write: (_db, batch, loaded) => projection.write(shadowDb, batch, loaded),
  };
  const { db } = store;
  const createSchema = store.dialect === 'postgres' ? db.schema.createSchema(REBUILD_SCHEMA).ifNotExists().compile() : undefined;
  const dropShadow = projection.tables.map((table) => shadowDb.schema.dropTable(table).ifExists().compile());
  const createShadow = projection.createTables(shadowDb).map((s) => s.compile());
  await writeTransaction(store, function* () {
    if (createSchema) yield createSchema;
    for (const statement of [...dropShadow, ...createShadow]) yield statement;
    yield storeCheckpoint(db, shadow.name, projection.version, 0);
  });
  return { live: projection, projection: shadow, types: new Set(projection.eventTypes), position: 0 };
}

/** The swap, in one transaction; false when the live projection is ahead of `position` (catch up, then try again). */
async function swap(store: ReadStore, projection: AnyProjection, shadowName: string, position: number): Promise<boolean> {
  const { db } = store;
  const live = checkpointForUpdate(db, projection.name, store.dialect);
  const dropLive = projection.tables.map((table) => db.schema.dropTable(table).ifExists().compile());
  // Built without the relocating plugin: it would relocate the rename's target too.
  const moveIn = projection.tables.map((table) =>
    store.dialect === 'postgres'
      ? db.schema.withSchema(REBUILD_SCHEMA).alterTable(table).setSchema('public').compile()
      : db.schema.alterTable(`${table}${REBUILD_SUFFIX}`).renameTo(table).compile(),
  );
  const indexes = projection.indexes(db).map((s) => s.compile());
  const moveCheckpoint = storeCheckpoint(db, projection.name, projection.version, position);
  const forgetShadow = db.deleteFrom('rm_checkpoints').where('name', '=', shadowName).compile();
  return writeTransaction(store, function* () {
    const row = (yield live).rows[0] as { position: number } | undefined;
    if (row && Number(row.position) > position) return false;
    for (const statement of [...dropLive, ...moveIn, ...indexes, moveCheckpoint, forgetShadow]) yield statement;
    return true;
  });
}
