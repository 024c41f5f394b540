/*
 * Preloaded into the service by `BENCH_PROBE=1 npm run bench:commands`
 * (`node -r dist/bench/support/stall-probe.js`, and so into its worker
 * threads too): writes one JSON line per event-loop stall, slow SQLite call
 * and long GC pause to the file named by BENCH_PROBE_LOG, so a stall seen in
 * `/metrics` (event-loop delay max) can be told apart: a statement waiting on
 * a lock or the disk shows as a slow statement at the same time, JavaScript
 * work as a gap with no statement beside it (then run under BENCH_CPU_PROF).
 *
 * It wraps better-sqlite3's Statement and Database methods, so every
 * connection of the process is covered, whoever opened it.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';

export type ProbeRecord =
  | { kind: 'gap'; at: number; thread: number; ms: number }
  | { kind: 'statement'; at: number; thread: number; ms: number; connection: string; sql: string; stack: string[] }
  | { kind: 'gc'; at: number; thread: number; ms: number; gcKind: number | undefined };

/** Calls at least this long are written down (milliseconds). */
const SLOW_MS = Number(process.env.BENCH_PROBE_SLOW_MS ?? 50);
/** How often the event loop is asked to run a timer, and how late it may be before that counts as a stall. */
const TICK_MS = 20;
const GAP_MS = 200;

function install(path: string): void {
  const fd = openSync(path, 'a');
  // Wall-clock time: the benchmark, another process, places records in its own windows by it.
  const write = (record: ProbeRecord): void => void writeSync(fd, `${JSON.stringify(record)}\n`);
  process.once('exit', () => closeSync(fd));

  const names = new WeakMap<object, string>();
  let opened = 0;
  const connection = (db: Database.Database | undefined): string => {
    if (!db) return '?';
    let name = names.get(db);
    if (!name) names.set(db, (name = `thread ${threadId} connection ${++opened} (${db.name})`));
    return name;
  };
  const timed = <T extends object>(proto: T, method: string, describe: (self: T, args: unknown[]) => { db: Database.Database | undefined; sql: string }): void => {
    const original = (proto as Record<string, unknown>)[method] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') return;
    (proto as Record<string, unknown>)[method] = function (this: T, ...args: unknown[]) {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const ms = performance.now() - started;
        if (ms >= SLOW_MS) {
          const { db, sql } = describe(this, args);
          const stack = (new Error().stack ?? '').split('\n').slice(2, 10).map((line) => line.trim());
          write({ kind: 'statement', at: Date.now(), thread: threadId, ms, connection: connection(db), sql: sql.replace(/\s+/g, ' ').slice(0, 160), stack });
        }
      }
    };
  };

  const scratch = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(scratch.prepare('SELECT 1')) as object;
  scratch.close();
  type StatementLike = { source: string; database: Database.Database };
  for (const method of ['run', 'get', 'all']) {
    timed(statementProto as StatementLike, method, (self) => ({ db: self.database, sql: self.source }));
  }
  for (const method of ['exec', 'pragma']) {
    timed(Database.prototype, method, (self, args) => ({ db: self, sql: `${method} ${String(args[0])}` }));
  }

  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last >= GAP_MS + TICK_MS) write({ kind: 'gap', at: Date.now(), thread: threadId, ms: now - last });
    last = now;
  }, TICK_MS).unref();

  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration >= SLOW_MS) write({ kind: 'gc', at: Date.now(), thread: threadId, ms: entry.duration, gcKind: (entry as { detail?: { kind?: number } }).detail?.kind });
    }
  }).observe({ entryTypes: ['gc'] });
}

const target = process.env.BENCH_PROBE_LOG;
if (target) install(target);
else if (isMainThread) process.stderr.write('stall-probe: BENCH_PROBE_LOG is not set; nothing is recorded\n');
