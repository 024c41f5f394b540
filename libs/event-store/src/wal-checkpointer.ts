import { Worker } from 'node:worker_threads';

/**
 * Copies the SQLite write-ahead log back into the database file from a
 * thread of its own, so neither the copy nor its two fsyncs ever block the
 * event loop. The event store turns SQLite's automatic checkpoints (which
 * run inside a COMMIT on the committing thread) down to a backstop and asks
 * this instead, at most once per interval while it has committed anything.
 * Its timer is armed by a commit, not kept running: an idle store (and a
 * store that only reads) is never woken for it.
 * PASSIVE checkpoints wait for no reader or writer; a busy one is skipped
 * and the next one catches up.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private running = false;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failure: Error | undefined;

  constructor(
    private readonly path: string,
    private readonly intervalMs: number,
  ) {}

  /** Something was committed since the last checkpoint. */
  committed(): void {
    this.dirty = true;
    this.arm();
  }

  /** Why checkpoints stopped, if they did (SQLite's automatic ones then take over). */
  get stoppedBecause(): Error | undefined {
    return this.failure;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker || !this.exited) return;
    // The thread is unref'd so an idle checkpointer never keeps a process up;
    // while closing it must, or a process with nothing else to do ends before
    // the exit arrives and close() never settles.
    worker.ref();
    // A worker that already stopped (an error) has nobody to read the message; `exited` is settled then.
    worker.postMessage('close');
    await this.exited;
  }

  private arm(): void {
    if (this.timer || this.closed || this.failure) return;
    this.timer = setTimeout(this.tick, this.intervalMs);
    this.timer.unref();
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.checkpointIfDirty();
    // Still dirty: a checkpoint was running, or commits came since. Once more after the interval.
    if (this.dirty) this.arm();
  };

  private checkpointIfDirty(): void {
    if (!this.dirty || this.running || this.failure) return;
    this.dirty = false;
    this.running = true;
    this.start().postMessage('checkpoint');
  }

  // Started on first use: a store that never commits much never pays for a thread.
  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(CHECKPOINTER_SOURCE, {
      eval: true,
      workerData: { path: this.path, sqliteModule: require.resolve('better-sqlite3') },
    });
    worker.unref();
    this.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', () => (this.running = false));
    worker.on('error', (error) => {
      this.failure = error;
      this.running = false;
    });
    this.worker = worker;
    return worker;
  }
}

// Plain JavaScript evaluated in the worker, so it runs the same from the
// compiled service and from TypeScript tests; better-sqlite3 is resolved by
// the parent, as an eval'd worker has no module folder of its own.
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqliteModule);
const db = new Database(workerData.path, { timeout: 0 });
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
  }
  parentPort.postMessage('done');
});
`;
