/*
 * Event store benchmark: the SQLite adapter against a plain better-sqlite3
 * loop doing the same work with no port in between, in one run, on one
 * machine. `npm run bench:store`; results go to bench/RESULTS.md.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type NewEvent } from '@aftersales/event-store';
import { cpuModel } from './support/machine';

const APPEND_STREAMS = 10_000;
const APPEND_CALLERS = 50;
const READ_STREAMS = 50_000;
const EVENTS_PER_READ_STREAM = 20; // 50,000 x 20 = 1,000,000 events
const STREAM_READS = 20_000;
const READ_ALL_BATCH = 5_000;

const TARGETS = { appendsPerSecond: 15_000, streamsPerSecond: 5_000, readAllPerSecond: 100_000 };

// The same schema the adapter creates, for the plain loop's own file.
const PLAIN_SCHEMA = `
  CREATE TABLE es_events (
    global_position INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    stream_name TEXT NOT NULL,
    stream_revision INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    UNIQUE (stream_name, stream_revision)
  );`;

/** A case event of the usual size: about 200 bytes of data, 230 of metadata. */
function caseEvent(caseId: string, n: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'ReturnRequested',
    data: {
      caseId,
      orderId: `order-${n}`,
      kind: 'refund_only',
      reason: 'damaged',
      requestedAmount: 1999 + n,
      currency: 'CNY',
      lines: [{ lineId: `line-${n}`, quantity: 1, productId: `product-${n % 97}` }],
    },
    metadata: {
      actor: { role: 'buyer', id: `buyer-${n % 1013}` },
      channel: 'app',
      correlationId: randomUUID(),
      causationId: randomUUID(),
      schemaVersion: 1,
      occurredAt: new Date(1_700_000_000_000 + n).toISOString(),
    },
  };
}

function now(): number {
  return performance.now();
}

function percentile(sortedMs: number[], p: number): number {
  return sortedMs[Math.min(sortedMs.length - 1, Math.floor((p / 100) * sortedMs.length))];
}

interface AppendFigures {
  eventsPerSecond: number;
  p50: number;
  p99: number;
}

async function portAppends(path: string): Promise<AppendFigures & { meanBatch: number }> {
  const store = new SqliteEventStore({ path });
  const events = Array.from({ length: APPEND_STREAMS }, (_, i) => caseEvent(`case-${i}`, i));
  const latencies = new Array<number>(APPEND_STREAMS);
  let next = 0;
  const started = now();
  await Promise.all(
    Array.from({ length: APPEND_CALLERS }, async () => {
      while (next < APPEND_STREAMS) {
        const i = next++;
        const t = now();
        await store.append(`case-${i}`, [events[i]], { expectedRevision: 'no_stream' });
        latencies[i] = now() - t;
      }
    }),
  );
  const elapsed = now() - started;
  const stats = store.groupCommitStats();
  await store.close();
  latencies.sort((a, b) => a - b);
  return {
    eventsPerSecond: APPEND_STREAMS / (elapsed / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    meanBatch: stats.appends / stats.batches,
  };
}

/** One append per durable transaction, checking the stream's revision, as a hand-written loop would. */
function plainAppends(path: string): AppendFigures {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(PLAIN_SCHEMA);
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const lastRevision = db.prepare('SELECT MAX(stream_revision) FROM es_events WHERE stream_name = ?').pluck();
  const insert = db.prepare(
    'INSERT INTO es_events (event_id, stream_name, stream_revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const events = Array.from({ length: APPEND_STREAMS }, (_, i) => caseEvent(`case-${i}`, i));
  const latencies = new Array<number>(APPEND_STREAMS);
  const started = now();
  for (let i = 0; i < APPEND_STREAMS; i++) {
    const t = now();
    const event = events[i];
    const stream = `case-${i}`;
    begin.run();
    if (lastRevision.get(stream) !== null) throw new Error('stream exists');
    insert.run(event.id, stream, 0, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata), Date.now());
    commit.run();
    latencies[i] = now() - t;
  }
  const elapsed = now() - started;
  db.close();
  latencies.sort((a, b) => a - b);
  return { eventsPerSecond: APPEND_STREAMS / (elapsed / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** A million events through the adapter: 20-event appends, 500 appends queued per group commit. */
async function seed(path: string): Promise<{ seconds: number }> {
  const store = new SqliteEventStore({ path });
  const started = now();
  const wave = 500;
  for (let first = 0; first < READ_STREAMS; first += wave) {
    const appends: Promise<unknown>[] = [];
    for (let s = first; s < Math.min(first + wave, READ_STREAMS); s++) {
      const events = Array.from({ length: EVENTS_PER_READ_STREAM }, (_, k) => caseEvent(`case-${s}`, s * 100 + k));
      appends.push(store.append(`case-${s}`, events, { expectedRevision: 'no_stream' }));
    }
    await Promise.all(appends);
  }
  const seconds = (now() - started) / 1000;
  await store.close();
  return { seconds };
}

function streamOrder(): string[] {
  // Same pseudo-random order for both sides, so both touch the same pages.
  let x = 12345;
  return Array.from({ length: STREAM_READS }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return `case-${x % READ_STREAMS}`;
  });
}

async function portStreamReads(path: string, names: string[]): Promise<number> {
  const store = new SqliteEventStore({ path });
  let events = 0;
  const started = now();
  for (const name of names) events += (await store.readStream(name)).length;
  const elapsed = now() - started;
  await store.close();
  if (events !== names.length * EVENTS_PER_READ_STREAM) throw new Error(`read ${events} events`);
  return names.length / (elapsed / 1000);
}

function plainStreamReads(path: string, names: string[]): number {
  const db = new Database(path, { readonly: true });
  const read = db.prepare<[string], { data: string; metadata: string } & Record<string, unknown>>(
    'SELECT * FROM es_events WHERE stream_name = ? ORDER BY stream_revision',
  );
  let events = 0;
  const started = now();
  for (const name of names) {
    const rows = read.all(name);
    for (const row of rows) {
      row.data = JSON.parse(row.data);
      row.metadata = JSON.parse(row.metadata);
    }
    events += rows.length;
  }
  const elapsed = now() - started;
  db.close();
  if (events !== names.length * EVENTS_PER_READ_STREAM) throw new Error(`read ${events} events`);
  return names.length / (elapsed / 1000);
}

async function portReadAll(path: string): Promise<number> {
  const store = new SqliteEventStore({ path });
  let after = 0;
  let events = 0;
  const started = now();
  for (;;) {
    const batch = await store.readAll({ after, maxCount: READ_ALL_BATCH });
    if (batch.length === 0) break;
    events += batch.length;
    after = batch[batch.length - 1].position;
  }
  const elapsed = now() - started;
  await store.close();
  if (events !== READ_STREAMS * EVENTS_PER_READ_STREAM) throw new Error(`read ${events} events`);
  return events / (elapsed / 1000);
}

function plainReadAll(path: string): number {
  const db = new Database(path, { readonly: true });
  const all = db.prepare<[], { data: string; metadata: string } & Record<string, unknown>>(
    'SELECT * FROM es_events ORDER BY global_position',
  );
  let events = 0;
  const started = now();
  for (const row of all.iterate()) {
    row.data = JSON.parse(row.data);
    row.metadata = JSON.parse(row.metadata);
    events++;
  }
  const elapsed = now() - started;
  db.close();
  if (events !== READ_STREAMS * EVENTS_PER_READ_STREAM) throw new Error(`read ${events} events`);
  return events / (elapsed / 1000);
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => `${n.toFixed(2)} ms`;
const ratio = (port: number, plain: number): string => `${(port / plain).toFixed(2)}×`;
const verdict = (value: number, target: number): string => (value >= target ? 'met' : 'MISSED');

const ROUNDS = 3;

/** The round with the median throughput, so one slow fsync burst on a shared disk decides nothing. */
function median<T>(runs: T[], value: (run: T) => number): T {
  return [...runs].sort((a, b) => value(a) - value(b))[Math.floor(runs.length / 2)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aftersales-bench-'));
  try {
    const machine = `${availableParallelism()} CPUs (nproc), ${cpuModel()}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
    console.log(`Machine: ${machine}`);
    console.log(`Each figure is the median of ${ROUNDS} rounds; port and plain alternate within a round.`);

    // Warm-up: JIT and the file system, outside the measured rounds.
    console.log('Warm-up: one round of the append test, not measured...');
    await portAppends(join(dir, 'warm-up-port.db'));
    plainAppends(join(dir, 'warm-up-plain.db'));

    console.log(`Appending one event to each of ${int(APPEND_STREAMS)} streams from ${APPEND_CALLERS} callers...`);
    const portAppendRuns: Array<Awaited<ReturnType<typeof portAppends>>> = [];
    const plainAppendRuns: AppendFigures[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      portAppendRuns.push(await portAppends(join(dir, `port-appends-${round}.db`)));
      plainAppendRuns.push(plainAppends(join(dir, `plain-appends-${round}.db`)));
      console.log(
        `  round ${round + 1}: port ${int(portAppendRuns[round].eventsPerSecond)} events/s, plain ${int(plainAppendRuns[round].eventsPerSecond)} events/s`,
      );
    }
    const portAppend = median(portAppendRuns, (run) => run.eventsPerSecond);
    const plainAppend = median(plainAppendRuns, (run) => run.eventsPerSecond);

    const readPath = join(dir, 'reads.db');
    console.log(`Seeding ${int(READ_STREAMS * EVENTS_PER_READ_STREAM)} events through the adapter...`);
    const seeded = await seed(readPath);
    console.log(`  seeded in ${seeded.seconds.toFixed(1)} s (${int((READ_STREAMS * EVENTS_PER_READ_STREAM) / seeded.seconds)} events/s)`);

    const names = streamOrder();
    console.log(`Reading ${int(STREAM_READS)} ${EVENTS_PER_READ_STREAM}-event streams...`);
    const portStreamRuns: number[] = [];
    const plainStreamRuns: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      portStreamRuns.push(await portStreamReads(readPath, names));
      plainStreamRuns.push(plainStreamReads(readPath, names));
      console.log(`  round ${round + 1}: port ${int(portStreamRuns[round])} streams/s, plain ${int(plainStreamRuns[round])} streams/s`);
    }
    const portStreams = median(portStreamRuns, (run) => run);
    const plainStreams = median(plainStreamRuns, (run) => run);

    console.log('Reading all events in order, data parsed...');
    const portAllRuns: number[] = [];
    const plainAllRuns: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      portAllRuns.push(await portReadAll(readPath));
      plainAllRuns.push(plainReadAll(readPath));
      console.log(`  round ${round + 1}: port ${int(portAllRuns[round])} events/s, plain ${int(plainAllRuns[round])} events/s`);
    }
    const portAll = median(portAllRuns, (run) => run);
    const plainAll = median(plainAllRuns, (run) => run);

    const rows = [
      ['measure', 'port (SqliteEventStore)', 'plain better-sqlite3', 'port / plain', 'target'],
      ['---', '---:', '---:', '---:', '---'],
      [
        `durable single-event appends, ${int(APPEND_STREAMS)} streams, ${APPEND_CALLERS} callers (events/s)`,
        int(portAppend.eventsPerSecond),
        int(plainAppend.eventsPerSecond),
        ratio(portAppend.eventsPerSecond, plainAppend.eventsPerSecond),
        `≥ ${int(TARGETS.appendsPerSecond)}: ${verdict(portAppend.eventsPerSecond, TARGETS.appendsPerSecond)}`,
      ],
      ['acknowledgement latency p50', ms(portAppend.p50), ms(plainAppend.p50), '', ''],
      ['acknowledgement latency p99', ms(portAppend.p99), ms(plainAppend.p99), '', ''],
      [
        `readStream of a ${EVENTS_PER_READ_STREAM}-event stream (streams/s)`,
        int(portStreams),
        int(plainStreams),
        ratio(portStreams, plainStreams),
        `≥ ${int(TARGETS.streamsPerSecond)}: ${verdict(portStreams, TARGETS.streamsPerSecond)}`,
      ],
      [
        `readAll of ${int(READ_STREAMS * EVENTS_PER_READ_STREAM)} events, data parsed (events/s)`,
        int(portAll),
        int(plainAll),
        ratio(portAll, plainAll),
        `≥ ${int(TARGETS.readAllPerSecond)}: ${verdict(portAll, TARGETS.readAllPerSecond)}`,
      ],
    ];
    console.log('');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    console.log('');
    console.log(`Mean group-commit batch: ${portAppend.meanBatch.toFixed(1)} appends per transaction.`);
    console.log(`Seeding: ${seeded.seconds.toFixed(1)} s for ${int(READ_STREAMS * EVENTS_PER_READ_STREAM)} events.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// scripts/bench.js awaits this and fails the run loudly if it never settles.
export const finished = main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
