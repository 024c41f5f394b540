import { Worker } from 'node:worker_threads';

const REQUESTED = 0;
const DONE = 1;
const STOP = 2;
/** 1 while the thread waits for a request (or is about to): only then does a request have to wake it. */
const SLEEPING = 3;

interface Request {
  target: number;
  done: (error?: Error) => void;
}

/**
 * Fsyncs one file descriptor on a thread of its own, asked and answered
 * through counters in shared memory, for WalFileSync.
 *
 * `fs.fsync` on the event loop hands the call to libuv's thread pool, and
 * handing it over takes the pool's lock, which every thread's file work
 * shares (the worker's and the projector's too): on a loaded machine the
 * API's event loop waited there 0.5 ms per fsync on average, up to 35 ms.
 * Here the event loop increments a counter and wakes the thread
 * (Atomics.notify); the thread answers by moving another counter, which the
 * event loop awaits with `Atomics.waitAsync`. The thread is woken for every
 * request rather than left to look every millisecond by itself: that look
 * added up to a millisecond before each fsync, and group commit's pace is
 * the fsync's (bench:store: 20,668 appends/s looking, 31,911 woken, with
 * no difference in bench:commands beyond the machine's spread).
 *
 * A request made while the thread is busy with an fsync does not wake it
 * (it looks at the count before it sleeps): waking a thread is a system
 * call, and on this virtual machine `Atomics.notify` was 4 % of the API
 * thread's time in bench:commands. Requests may be outstanding together;
 * each is answered by the first fsync that began after it was counted.
 */
export class FsyncThread {
  private readonly state = new Int32Array(new SharedArrayBuffer(16));
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  /** Requests not answered yet, oldest (lowest target) first. */
  private pending: Request[] = [];
  private awaiting = false;
  private failure: Error | undefined;

  constructor(fd: number) {
    this.worker = new Worker(FSYNC_SOURCE, { eval: true, workerData: { state: this.state.buffer, fd } });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (error: { message: string; code?: string; errno?: number; syscall?: string }) =>
      this.failed(Object.assign(new Error(error.message), { code: error.code, errno: error.errno, syscall: error.syscall })),
    );
    this.worker.on('error', (error) => this.failed(error));
    this.worker.on('exit', () => this.failed(new Error('The fsync thread stopped')));
  }

  /** One fsync that starts after this call; `done` is called once it returned. Calls may overlap. */
  fsync(done: (error?: Error) => void): void {
    if (this.failure) {
      done(this.failure);
      return;
    }
    const target = Atomics.add(this.state, REQUESTED, 1) + 1;
    // The thread says it sleeps before it compares the count and waits, so a
    // request counted after that comparison always sees the flag and wakes it.
    if (Atomics.load(this.state, SLEEPING) === 1) Atomics.notify(this.state, REQUESTED);
    // The answer is awaited on no libuv handle: the thread keeps the process alive while an fsync is owed.
    if (this.pending.length === 0) this.worker.ref();
    this.pending.push({ target, done });
    if (!this.awaiting) this.awaitDone();
  }

  /** Waits for an fsync asked for to return, then stops the thread. */
  async close(): Promise<void> {
    Atomics.store(this.state, STOP, 1);
    Atomics.add(this.state, REQUESTED, 1);
    Atomics.notify(this.state, REQUESTED);
    this.worker.ref();
    await this.exited;
  }

  private awaitDone(): void {
    this.awaiting = false;
    if (this.pending.length === 0) return;
    const done = Atomics.load(this.state, DONE);
    let answered = 0;
    while (answered < this.pending.length && this.pending[answered].target <= done) answered++;
    if (answered > 0) {
      const settled = this.pending.splice(0, answered);
      if (this.pending.length === 0) this.worker.unref();
      for (const request of settled) request.done();
      // A callback may have asked again (and started a wait of its own).
      if (this.awaiting || this.pending.length === 0) return;
    }
    this.awaiting = true;
    const wait = waitAsync(this.state, DONE, done);
    if (wait.async) void wait.value.then(() => this.awaitDone());
    else this.awaitDone();
  }

  private failed(error: Error): void {
    this.failure ??= error;
    const pending = this.pending.splice(0);
    for (const request of pending) request.done(this.failure);
  }
}

/** `Atomics.waitAsync` (Node 16 and later), which the compiler's library (ES2022) does not declare yet. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

// Plain JavaScript evaluated in the thread, so it runs the same from the compiled service and from TypeScript tests.
const FSYNC_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const state = new Int32Array(workerData.state);
let seen = 0;
for (;;) {
  if (Atomics.load(state, ${REQUESTED}) === seen) {
    // Said before the comparison inside wait: a request counted after it sees the flag and wakes this thread.
    Atomics.store(state, ${SLEEPING}, 1);
    Atomics.wait(state, ${REQUESTED}, seen);
    Atomics.store(state, ${SLEEPING}, 0);
    continue;
  }
  if (Atomics.load(state, ${STOP}) === 1) break;
  // Read before the fsync starts: every request counted so far is covered by it.
  const requested = Atomics.load(state, ${REQUESTED});
  try {
    fs.fsyncSync(workerData.fd);
  } catch (error) {
    parentPort.postMessage({ message: error.message, code: error.code, errno: error.errno, syscall: error.syscall });
    break;
  }
  seen = requested;
  Atomics.store(state, ${DONE}, requested);
  Atomics.notify(state, ${DONE});
}
`;
