/*
 * `GET /v1/analytics/summary` in process: `node scripts/bench.js
 * analytics-summary` (BENCH_CASES, default 200,000; BENCH_DAYS, default 91;
 * BENCH_CALLS, default 100; DATABASE_URL for a PostgreSQL run beside
 * SQLite). Synthetic case histories spread over the days (every reason,
 * agents that claim and pass cases on, durations from seconds to weeks,
 * ratings) are written through the case_analytics projection straight into
 * a read store (no event store, no HTTP); then the summary over the whole
 * history, and over the last 30 days, is asked BENCH_CALLS times for every
 * groupBy, one call at a time, and its p50 and p99 printed, with the
 * process's mean CPU time per call (steadier on a busy machine). Not a timed
 * test; figures go to bench/RESULTS.md by hand.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASE_REASONS, DEPARTMENTS } from '@aftersales/domain';
import type { StoredEvent } from '@aftersales/event-store';
import {
  ANALYTICS_GROUPS,
  AnalyticsQuery,
  caseAnalyticsProjection,
  migrateReadStore,
  openReadStore,
  prepareProjection,
  storeBatch,
  type ReadStore,
} from '@aftersales/read-models';
import { withPostgres } from './support/postgres';

type ReadStoreOptions = Parameters<typeof openReadStore>[0];

const CASES = Number(process.env.BENCH_CASES ?? 200_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 91);
const CALLS = Number(process.env.BENCH_CALLS ?? 100);
const TARGET_MS = 50;
const DAY_MS = 86_400_000;
const BATCH_EVENTS = 5000;
/** The first whole day of the history. */
const DAY0 = Date.parse('2026-06-01T00:00:00.000Z');

const print = (line: string) => process.stdout.write(`${line}\n`);

/** A seeded random source (mulberry32): the same history every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Key counts close to a seeded store's: merchants, products, categories, suppliers, agents. */
const MERCHANTS = Array.from({ length: 14 }, (_, i) => `m${i + 1}`);
const PRODUCTS = Array.from({ length: 17 }, (_, i) => `p${i + 1}`);
const CATEGORIES = Array.from({ length: 14 }, (_, i) => `category${i + 1}`);
const SUPPLIERS = Array.from({ length: 8 }, (_, i) => `s${i + 1}`);
const AGENTS = Array.from({ length: 12 }, (_, i) => `agent-${i + 1}`);

let position = 0;

/** One case's events, as the command path records them (a stream of its own, revisions from 0). */
function caseHistory(n: number, next: () => number): StoredEvent[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const caseId = `c${n}`;
  const start = DAY0 + Math.floor(((n + next()) / CASES) * DAYS * DAY_MS);
  const events: StoredEvent[] = [];
  const add = (type: string, data: Record<string, unknown>, at: number, actor: { role: string; id: string }) => {
    const occurredAt = new Date(Math.min(at, DAY0 + DAYS * DAY_MS + 30 * DAY_MS)).toISOString();
    events.push({
      id: randomUUID(),
      streamName: `aftersales-${caseId}`,
      type,
      data,
      metadata: { actor, channel: 'app', correlationId: caseId, causationId: caseId, schemaVersion: 1, occurredAt },
      revision: events.length,
      position: (position += 1),
      recordedAt: new Date(occurredAt),
    });
  };
  const merchantId = pick(MERCHANTS);
  const buyer = { role: 'buyer', id: `u${n % 40_000}` };
  const merchant = { role: 'merchant', id: `${merchantId}-staff` };
  const reason = pick(CASE_REASONS);
  add(
    'ReturnRequested',
    {
      caseId,
      orderId: `o${n}`,
      buyerId: buyer.id,
      merchantId,
      businessLine: 'apparel',
      kind: 'refund_only',
      reason,
      responsible: 'merchant',
      department: pick(DEPARTMENTS),
      lines: [{ lineId: 'L1', quantity: 1, productId: pick(PRODUCTS), category: pick(CATEGORIES), supplierId: pick(SUPPLIERS) }],
      requestedAmount: 1000 + Math.floor(next() * 9000),
      currency: 'CNY',
      evidence: [],
      pickup: false,
    },
    start,
    buyer,
  );
  // Answers from seconds to days; ends from minutes to weeks after.
  const answered = start + Math.floor(next() ** 3 * 3 * DAY_MS);
  if (next() < 0.85) add('MerchantRejected', { reason: 'no' }, answered, merchant);
  else return events;
  add('CaseEscalated', { reason: 'please' }, answered + 1000, buyer);
  if (next() < 0.8) add('CaseClaimed', { agentId: pick(AGENTS) }, answered + 60_000, { role: 'agent', id: 'agent-1' });
  if (next() < 0.2) add('CaseTransferred', { agentId: pick(AGENTS) }, answered + 120_000, { role: 'admin', id: 'admin-1' });
  if (next() < 0.7) {
    add('CaseClosed', { reason: 'resolved' }, answered + 180_000 + Math.floor(next() ** 2 * 14 * DAY_MS), { role: 'agent', id: 'agent-1' });
    if (next() < 0.5) add('SatisfactionRated', { score: 1 + Math.floor(next() * 5), nps: Math.floor(next() * 11) }, answered + 15 * DAY_MS, buyer);
  }
  return events;
}

/** The history written through the projection in log-sized batches. */
async function seed(store: ReadStore): Promise<number> {
  await migrateReadStore(store);
  await prepareProjection(store, caseAnalyticsProjection);
  position = 0;
  const next = random(42);
  let pending: StoredEvent[] = [];
  let expected = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const last = pending[pending.length - 1].position;
    await storeBatch(store, caseAnalyticsProjection, { expected, position: last, events: pending });
    expected = last;
    pending = [];
  };
  for (let n = 0; n < CASES; n += 1) {
    pending.push(...caseHistory(n, next));
    if (pending.length >= BATCH_EVENTS) await flush();
  }
  await flush();
  return position;
}

const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil((p * sorted.length) / 100) - 1)];

async function measure(store: ReadStore, label: string): Promise<void> {
  const query = new AnalyticsQuery(store);
  const whole = { from: new Date(DAY0).toISOString(), to: new Date(DAY0 + DAYS * DAY_MS).toISOString() };
  const last30 = { from: new Date(DAY0 + (DAYS - 30) * DAY_MS + 3_600_000).toISOString(), to: new Date(DAY0 + DAYS * DAY_MS - 3_600_000).toISOString() };
  const runs = [
    ...ANALYTICS_GROUPS.map((groupBy) => ({ name: `groupBy=${groupBy}, whole history (${DAYS} days)`, range: whole, groupBy })),
    { name: 'groupBy=day, last 30 days (partial days at both ends)', range: last30, groupBy: 'day' as const },
  ];
  print(`| ${label} | items | p50 | p99 | max | CPU per call | p99 ≤ ${TARGET_MS} ms |`);
  print('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const run of runs) {
    const first = await query.summary(run.range, run.groupBy);
    const times: number[] = [];
    const cpu = process.cpuUsage();
    for (let i = 0; i < CALLS; i += 1) {
      const started = process.hrtime.bigint();
      await query.summary(run.range, run.groupBy);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const used = process.cpuUsage(cpu);
    times.sort((a, b) => a - b);
    const p99 = percentile(times, 99);
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    print(`| ${run.name} | ${first.items.length} | ${ms(percentile(times, 50))} | ${ms(p99)} | ${ms(times[times.length - 1])} | ${ms((used.user + used.system) / 1000 / CALLS)} | ${p99 <= TARGET_MS ? 'met' : 'MISSED'} |`);
  }
}

async function run(options: ReadStoreOptions, label: string): Promise<void> {
  const store = openReadStore(options);
  try {
    const started = Date.now();
    const events = await seed(store);
    print(`${label}: ${CASES.toLocaleString('en-US')} cases (${events.toLocaleString('en-US')} events) over ${DAYS} days written through case_analytics in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // What the service's hourly planner pass would have gathered by now.
    if (store.sqlite) store.sqlite.exec('ANALYZE');
    await measure(store, label);
  } finally {
    await store.close();
  }
}

async function main(): Promise<void> {
  print(`bench:analytics-summary on ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}, ${CALLS} calls each`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-analytics-'));
  try {
    await run({ kind: 'sqlite', sqlitePath: join(dir, 'read.db') }, 'SQLite');
    await withPostgres((options) => run(options, 'PostgreSQL'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const finished = main().catch((error: unknown) => {
  process.stderr.write(`bench:analytics-summary failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
});
