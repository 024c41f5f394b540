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
 *
 * On SQLite, the bodies asked for in one turn of the event loop share one
 * transaction, each in a savepoint of its own (see `TurnTransactions`).
 */
export async function writeTransaction<T>(store: ReadStore, body: WriteBody<T>): Promise<T> {
  if (store.sqlite) return turnTransactionsOf(store.sqlite).run(body);
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

interface QueuedBody {
  body: WriteBody<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The write transactions of one SQLite connection, gathered per turn of the
 * event loop: the projections of a process, woken together by the same new
 * events, each store a batch and a checkpoint, and one COMMIT for all of
 * them writes the pages they share (the checkpoints, the projection locks)
 * once and takes the file's write lock once, instead of four times.
 *
 * Each body runs in a SAVEPOINT of its own inside the shared transaction: a
 * body that throws (a checkpoint moved, a lock lost) is rolled back alone
 * and its caller gets its error, while the others commit. Only a failed
 * COMMIT fails them all, none of them having been kept.
 */
class TurnTransactions {
  private queue: QueuedBody[] = [];
  private readonly transaction: (queue: QueuedBody[], outcomes: Outcome[]) => void;
  private readonly savepoint: (body: WriteBody<unknown>) => unknown;

  constructor(database: Database.Database) {
    const run = (body: WriteBody<unknown>) => drive(body, (query) => runSqlite(database, query));
    // Nested inside `transaction`, better-sqlite3 runs this one as SAVEPOINT ... RELEASE (ROLLBACK TO on a throw).
    this.savepoint = database.transaction(run);
    this.transaction = database.transaction((queue: QueuedBody[], outcomes: Outcome[]) => {
      // From the start on each attempt: nothing of a failed attempt was kept.
      outcomes.length = 0;
      for (const item of queue) {
        try {
          outcomes.push({ ok: true, value: this.savepoint(item.body) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    }).immediate;
  }

  run<T>(body: WriteBody<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ body, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    const outcomes: Outcome[] = [];
    try {
      this.transaction(queue, outcomes);
    } catch (error) {
      for (const item of queue) item.reject(error);
      return;
    }
    queue.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const turnTransactions = new WeakMap<Database.Database, TurnTransactions>();

function turnTransactionsOf(database: Database.Database): TurnTransactions {
  let transactions = turnTransactions.get(database);
  if (!transactions) turnTransactions.set(database, (transactions = new TurnTransactions(database)));
  return transactions;
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
