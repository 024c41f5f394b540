import type Database from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import { preparedStatement, type ReadStore } from './read-store';

/** What a statement gave back: its rows (for a SELECT or RETURNING) and how many rows it changed. */
export interface StatementResult<R = Record<string, unknown>> {
  rows: R[];
  changed: number;
}

/**
 * A write transaction's body: it yields each statement (compiled by Kysely)
 * and gets its result back, so one body runs on both dialects.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WriteBody<T> = () => Generator<CompiledQuery, T, StatementResult<any>>;

/**
 * Runs `body` in one write transaction. On SQLite the whole transaction,
 * BEGIN IMMEDIATE to COMMIT, runs synchronously in one turn of the event
 * loop: the file's other connections in this process (the event store, the
 * idempotency records) write synchronously too, and one of them waiting on
 * a lock held across an `await` would hold the event loop the lock needs to
 * be released. On PostgreSQL the statements run one after another on one
 * pooled connection.
 */
export async function writeTransaction<T>(store: ReadStore, body: WriteBody<T>): Promise<T> {
  if (store.sqlite) {
    const database = store.sqlite;
    return database.transaction(() => drive(body, (query) => runSqlite(database, query))).immediate();
  }
  return store.db.transaction().execute(async (trx) => {
    const steps = body();
    let step = steps.next();
    while (!step.done) {
      const result = await trx.executeQuery(step.value);
      step = steps.next({ rows: result.rows as Record<string, unknown>[], changed: Number(result.numAffectedRows ?? 0n) });
    }
    return step.value;
  });
}

function drive<T>(body: WriteBody<T>, run: (query: CompiledQuery) => StatementResult): T {
  const steps = body();
  let step = steps.next();
  while (!step.done) step = steps.next(run(step.value));
  return step.value;
}

function runSqlite(database: Database.Database, query: CompiledQuery): StatementResult {
  const statement = preparedStatement(database, query.sql);
  const parameters = query.parameters as unknown[];
  if (statement.reader) return { rows: statement.all(...parameters) as Record<string, unknown>[], changed: 0 };
  return { rows: [], changed: statement.run(...parameters).changes };
}
