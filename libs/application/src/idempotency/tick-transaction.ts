import { LOCK_RETRY_MS } from './write-lock';

/** One piece of work for the next transaction, and how to tell its caller. */
interface Queued {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs `work` inside BEGIN ... COMMIT (better-sqlite3's
 * `db.transaction(...).immediate`). It may answer `false`, having run
 * nothing, when another connection holds the write lock and `mayWait` is
 * false: the batch is then tried again shortly.
 */
export type TransactionRunner = (work: () => void, mayWait: boolean) => void | boolean;

/**
 * Runs the work queued during one turn of the event loop in one SQLite
 * transaction: under load, the claims and records of every request that
 * arrived together cost one COMMIT (one lock, one set of pages written)
 * instead of one each. Each piece's result or error goes to its own caller;
 * a failed COMMIT fails every piece of the batch, since none of it was kept.
 * A batch that finds the write lock taken stays queued (gathering more) and
 * is tried again a millisecond later, for up to `lockWaitMs`; after that
 * the runner may wait for the lock.
 */
export class TickTransaction {
  private queue: Queued[] = [];
  private scheduled = false;
  private closed = false;
  /** Since when the queued batch has found the write lock taken (Date.now()). */
  private lockTakenSince: number | undefined;

  constructor(
    private readonly transaction: TransactionRunner,
    private readonly lockWaitMs = 5000,
  ) {}

  enqueue<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('The store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs what is queued now (waiting for the write lock if need be); afterwards nothing more is accepted. */
  close(): void {
    this.flush(true);
    this.closed = true;
  }

  private flush(waitForLock = false): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    const mayWait = waitForLock || (this.lockTakenSince !== undefined && Date.now() - this.lockTakenSince >= this.lockWaitMs);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let ran: void | boolean;
    try {
      ran = this.transaction(() => {
        // From the start on each attempt: an attempt that found the lock taken may have got this far.
        outcomes.length = 0;
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: item.run() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      }, mayWait);
    } catch (error) {
      this.queue = [];
      this.lockTakenSince = undefined;
      for (const item of batch) item.reject(error);
      return;
    }
    if (ran === false) {
      this.lockTakenSince ??= Date.now();
      this.scheduled = true;
      setTimeout(() => this.flush(), LOCK_RETRY_MS);
      return;
    }
    this.queue = [];
    this.lockTakenSince = undefined;
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
