/** One piece of work for the next transaction, and how to tell its caller. */
interface Queued {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs the work queued during one turn of the event loop in one SQLite
 * transaction: under load, the claims and records of every request that
 * arrived together cost one COMMIT (one lock, one set of pages written)
 * instead of one each. Each piece's result or error goes to its own caller;
 * a failed COMMIT fails every piece of the batch, since none of it was kept.
 */
export class TickTransaction {
  private queue: Queued[] = [];
  private scheduled = false;
  private closed = false;

  /** `transaction` runs its argument inside BEGIN ... COMMIT (better-sqlite3's `db.transaction(...).immediate`). */
  constructor(private readonly transaction: (work: () => void) => void) {}

  enqueue<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('The idempotency store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs what is queued now; afterwards nothing more is accepted. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: item.run() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
