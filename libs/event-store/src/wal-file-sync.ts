// `fs.fsync` and `fs.openSync` are looked up at call time, so a test can hold the disk back or make it fail:
// a replaced `fs.fsync` is called on the event loop; Node's own runs on a thread of its own (FsyncThread).
import fs from 'node:fs';
import { FsyncThread } from './fsync-thread';

const NODE_FSYNC = fs.fsync;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Fsyncs the write-ahead log (`<database>-wal`) of a SQLite database on
 * a thread of its own (FsyncThread, not libuv's pool, whose lock the event
 * loop waited on), so a connection committing with `synchronous=NORMAL`
 * gets the durability of `FULL` without blocking the event loop.
 *
 * `sync()` resolves after an fsync that began after the call. One fsync
 * runs at a time; every call made meanwhile shares the next one. An fsync of
 * the log covers every frame written to it, by any connection or process.
 * On the thread, a call is counted at once (no turn of the event loop
 * between one fsync's end and the next one's start); with a replaced
 * `fs.fsync` (tests), calls made while one runs are queued for the next.
 *
 * A failed fsync is final: the kernel may have dropped the pages it could
 * not write, so a later fsync that succeeds proves nothing. Every later
 * `sync()` rejects with the same error (`failure`).
 */
export class WalFileSync {
  private readonly walPath: string;
  private fd: number | undefined;
  private thread: FsyncThread | undefined;
  private inFlight = false;
  /** Callers waiting for the next fsync to start (it starts when the running one ends). */
  private waiting: Waiter[] = [];
  private idle: Array<() => void> = [];
  /** Calls asked of the fsync thread and not answered yet. */
  private onThread = 0;
  private closed = false;
  private failed: Error | undefined;

  constructor(databasePath: string) {
    this.walPath = `${databasePath}-wal`;
  }

  /** Why syncing stopped, if it did. */
  get failure(): Error | undefined {
    return this.failed;
  }

  sync(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error(`WalFileSync for ${this.walPath} is closed`));
    if (fs.fsync === NODE_FSYNC) return this.syncOnThread();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.inFlight) this.run();
    });
  }

  /** Counted by the thread at once: it answers with the first fsync that starts after this call. */
  private syncOnThread(): Promise<void> {
    let fd: number | undefined;
    try {
      fd = this.descriptor();
    } catch (error) {
      this.failed = error as Error;
      return Promise.reject(this.failed);
    }
    // No log file: nothing is written to one yet, so nothing awaits an fsync.
    if (fd === undefined) return Promise.resolve();
    const thread = (this.thread ??= new FsyncThread(fd));
    this.onThread++;
    return new Promise<void>((resolve, reject) => {
      thread.fsync((error) => {
        this.onThread--;
        if (error) {
          this.failed ??= error;
          reject(this.failed);
        } else {
          resolve();
        }
        if (this.onThread === 0 && !this.inFlight && this.waiting.length === 0) this.ranOut();
      });
    });
  }

  /** Waits for the fsyncs already asked for, then releases the file descriptor. Later `sync()` calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight || this.waiting.length > 0 || this.onThread > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    const thread = this.thread;
    this.thread = undefined;
    await thread?.close();
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      fs.closeSync(fd);
    }
  }

  private run(): void {
    const covered = this.waiting;
    this.waiting = [];
    let fd: number | undefined;
    try {
      fd = this.descriptor();
    } catch (error) {
      this.fail(error as Error, covered);
      return;
    }
    if (fd === undefined) {
      // No log file: nothing is written to one yet, so nothing awaits an fsync.
      for (const waiter of covered) waiter.resolve();
      this.ranOut();
      return;
    }
    this.inFlight = true;
    const returned = (error?: Error | null): void => {
      this.inFlight = false;
      if (error) {
        this.fail(error, covered);
        return;
      }
      for (const waiter of covered) waiter.resolve();
      if (this.waiting.length > 0) this.run();
      else this.ranOut();
    };
    if (fs.fsync === NODE_FSYNC) (this.thread ??= new FsyncThread(fd)).fsync(returned);
    else fs.fsync(fd, returned);
  }

  /** Opened once and kept: writable, since some systems fsync only descriptors open for writing. */
  private descriptor(): number | undefined {
    if (this.fd !== undefined) return this.fd;
    try {
      this.fd = fs.openSync(this.walPath, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return this.fd;
  }

  private fail(error: Error, covered: Waiter[]): void {
    this.failed = error;
    for (const waiter of [...covered, ...this.waiting.splice(0)]) waiter.reject(error);
    this.ranOut();
  }

  private ranOut(): void {
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
