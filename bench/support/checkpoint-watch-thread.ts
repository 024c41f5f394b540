/*
 * Runs in a worker thread (see checkpoint-watch.ts): polls the projections'
 * stored checkpoints in the service's SQLite file on a read-only connection of
 * its own, so the load generator's busy event loop does not delay the
 * moment a checkpoint is seen to move.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

export interface WatchThreadInput {
  sqlitePath: string;
  intervalMs: number;
}

/** Per projection, each position seen with the first time it was seen (Date.now()), in order. */
export interface WatchThreadOutput {
  seen: Record<string, Array<[position: number, at: number]>>;
  polls: number;
  startedAt: number;
  stoppedAt: number;
}

const { sqlitePath, intervalMs } = workerData as WatchThreadInput;
const db = new Database(sqlitePath, { readonly: true, fileMustExist: true, timeout: 5000 });
const read = db.prepare('SELECT name, position FROM rm_checkpoints');
const seen: WatchThreadOutput['seen'] = {};
const startedAt = Date.now();
let polls = 0;
let stopping = false;

function poll(): void {
  const at = Date.now();
  polls += 1;
  for (const row of read.all() as Array<{ name: string; position: number }>) {
    const list = (seen[row.name] ??= []);
    const last = list[list.length - 1];
    if (!last || row.position > last[0]) list.push([row.position, at]);
  }
}

function loop(): void {
  if (stopping) return;
  poll();
  setTimeout(loop, intervalMs);
}

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  stopping = true;
  poll();
  db.close();
  const output: WatchThreadOutput = { seen, polls, startedAt, stoppedAt: Date.now() };
  parentPort?.postMessage(output);
});

loop();
