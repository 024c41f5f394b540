import { CompiledQuery, PostgresAdapter, type Kysely } from 'kysely';
import type { ReadModelTables } from './tables';

type Table = keyof ReadModelTables;
type Columns<T extends Table> = ReadonlyArray<keyof ReadModelTables[T] & string>;

/** How rows of a table are written: every column, and what a row already there (same `conflict` key) gets. */
export interface UpsertSpec<T extends Table> {
  table: T;
  columns: Columns<T>;
  conflict: Columns<T>;
  /** Columns taken from the new row on a conflict; 'nothing' keeps the row already there. */
  update: Columns<T> | 'nothing';
}

/** PostgreSQL allows 65,535 parameters per statement. */
const MAX_PARAMETERS = 60_000;

interface Template {
  /** The statement for one row, its parameters the row's values in `columns` order. */
  sql: string;
  /** PostgreSQL: the text before and after the one row's `($1, ..., $n)`, to write many rows in one statement. */
  around?: [string, string];
}

const templates = new WeakMap<Kysely<ReadModelTables>, Map<UpsertSpec<Table>, Template>>();

/**
 * The statements writing `rows`. The SQL is built by Kysely once per
 * database and spec (through `db`, so a rebuild's relocated tables are
 * honoured) and reused with each batch's values: no query building per row
 * or batch. On SQLite one statement per row, the same text each time, so
 * the connection prepares it once; on PostgreSQL many rows per statement,
 * one round trip for each.
 */
export function upsertRows<T extends Table>(db: Kysely<ReadModelTables>, spec: UpsertSpec<T>, rows: ReadonlyArray<ReadModelTables[T]>): CompiledQuery[] {
  if (rows.length === 0) return [];
  const template = templateFor(db, spec, rows[0]);
  const values = (row: ReadModelTables[T]): unknown[] => spec.columns.map((column) => row[column as keyof ReadModelTables[T]]);
  if (!template.around) return rows.map((row) => CompiledQuery.raw(template.sql, values(row)));
  const [before, after] = template.around;
  const width = spec.columns.length;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / width));
  const statements: CompiledQuery[] = [];
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const parameters: unknown[] = [];
    const tuples: string[] = [];
    for (const row of chunk) {
      const first = parameters.length;
      parameters.push(...values(row));
      tuples.push(`(${spec.columns.map((_, k) => `$${first + k + 1}`).join(', ')})`);
    }
    statements.push(CompiledQuery.raw(`${before}${tuples.join(', ')}${after}`, parameters));
  }
  return statements;
}

function templateFor<T extends Table>(db: Kysely<ReadModelTables>, spec: UpsertSpec<T>, sample: ReadModelTables[T]): Template {
  let byDb = templates.get(db);
  if (!byDb) templates.set(db, (byDb = new Map()));
  const known = byDb.get(spec as unknown as UpsertSpec<Table>);
  if (known) return known;
  const row: Record<string, unknown> = {};
  for (const column of spec.columns) row[column] = sample[column as keyof ReadModelTables[T]];
  const update = spec.update;
  const compiled = db
    .insertInto(spec.table)
    .values(row as never)
    .onConflict((oc) => {
      const target = oc.columns(spec.conflict as never);
      if (update === 'nothing') return target.doNothing();
      return target.doUpdateSet((eb) => {
        const set: Record<string, unknown> = {};
        for (const column of update) set[column] = eb.ref(`excluded.${column}` as never);
        return set as never;
      });
    })
    .compile();
  if (compiled.parameters.length !== spec.columns.length) throw new Error(`upsert into ${spec.table}: ${compiled.parameters.length} parameters for ${spec.columns.length} columns`);
  const template: Template = { sql: compiled.sql };
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const tuple = `(${spec.columns.map((_, k) => `$${k + 1}`).join(', ')})`;
    const at = compiled.sql.indexOf(` values ${tuple}`);
    if (at < 0) throw new Error(`upsert into ${spec.table}: unexpected statement ${compiled.sql}`);
    const start = at + ' values '.length;
    template.around = [compiled.sql.slice(0, start), compiled.sql.slice(start + tuple.length)];
  }
  byDb.set(spec as unknown as UpsertSpec<Table>, template);
  return template;
}

/** Sizes of `IN (...)` lists: a lookup's ids are padded to the next one, so its SQL is one of a few texts (prepared once each). */
const LOOKUP_SIZES = [1, 8, 64, 500] as const;

/** `ids` in lists for `IN (...)` lookups, each padded (with its last id again) to one of a few lengths. */
export function lookupChunks<T>(ids: readonly T[]): T[][] {
  const max = LOOKUP_SIZES[LOOKUP_SIZES.length - 1];
  const chunks: T[][] = [];
  for (let start = 0; start < ids.length; start += max) {
    const chunk = ids.slice(start, start + max);
    const size = LOOKUP_SIZES.find((n) => n >= chunk.length) ?? max;
    while (chunk.length < size) chunk.push(chunk[chunk.length - 1]);
    chunks.push(chunk);
  }
  return chunks;
}
