/*
 * Read-model benchmark (issue 11, "Measured"): `npm run bench:read-models`.
 *
 * A SQLITE_PATH in a temporary folder is seeded with BENCH_CASES cases
 * (default 200,000) by `npm run cli -- seed` (every kind and reason, many
 * merchants, buyers and agents, spread over BENCH_DAYS days, default 90);
 * then the service is started on it as `npm start` starts it (API, worker
 * and projector in one process, its own redis-server) and the projections
 * catch up from nothing. Two measured parts, on that one service:
 *
 *  - queries: `GET /v1/cases` with several filter combinations and
 *    `GET /v1/analytics/summary` with every groupBy over the whole seeded
 *    range, as an admin (who sees every case), BENCH_QUERY_REQUESTS each
 *    (default 200; at most BENCH_QUERY_SECONDS, default 30, per query) from
 *    BENCH_QUERY_CONCURRENCY callers (default 4). Target: p99 ≤ 50 ms.
 *  - lag: open → approve chains (every POST with an Idempotency-Key) started
 *    at BENCH_COMMANDS_PER_SECOND / 2 a second (default 1,000 commands/s)
 *    for BENCH_WARM_UP_SECONDS (default 5, not counted) + BENCH_SECONDS
 *    (default 30), at most BENCH_CALLERS chains in flight (default 200).
 *    Each command's answer carries `position`; a worker thread polls the
 *    projections' stored checkpoints (rm_checkpoints, the table `minPosition`
 *    waits on) every 2 ms, and a projection's lag for a command is the time
 *    from the answer to the first poll that saw its checkpoint at or past
 *    that position. Target: p99 ≤ 1 s for every projection.
 *
 * BENCH_READ_MODELS_RUN=queries|lag makes one of the two. BENCH_CASES=0 skips
 * the seed (lag on an empty store; no queries). Seeding 200,000 cases takes
 * about seven minutes, so a seeded event store can be kept and used again:
 * BENCH_SEED_SAVE=<folder> copies the freshly seeded file there, and
 * BENCH_SEED_FROM=<folder> copies it from there instead of seeding (the copy
 * is what the run uses; the saved files are never written to). Every
 * `aftersales*.db` in that folder is copied, so a folder holding the event
 * store and read models of a stopped service (or read models made with
 * `npm run cli -- projections rebuild`) starts caught up; with the event
 * store alone, the projections catch up from nothing. Either way the run
 * waits until the service has settled (overdue seeded deadlines fired, no
 * job queued, the log still) before it measures.
 * Figures go to bench/RESULTS.md by hand.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { readModelsPath } from '@aftersales/config';
import { ANALYTICS_GROUPS } from '@aftersales/read-models';
import { watchCheckpoints, type CheckpointHistory } from './support/checkpoint-watch';
import { runCliSeed } from './support/cli-seed';
import { BenchClient, type Answer } from './support/http-client';
import { startService, waitForReady, type ChildServer } from './support/service';
import { developmentToken } from './support/tokens';
import { cpuModel, processCpuSeconds, roleCpuSeconds, rolesPer } from './support/machine';

const CASES = Number(process.env.BENCH_CASES ?? 200_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const RUNS = process.env.BENCH_READ_MODELS_RUN ? [process.env.BENCH_READ_MODELS_RUN] : ['queries', 'lag'];
const QUERY_REQUESTS = Number(process.env.BENCH_QUERY_REQUESTS ?? 200);
const QUERY_CONCURRENCY = Number(process.env.BENCH_QUERY_CONCURRENCY ?? 4);
const QUERY_SECONDS = Number(process.env.BENCH_QUERY_SECONDS ?? 30);
const COMMANDS_PER_SECOND = Number(process.env.BENCH_COMMANDS_PER_SECOND ?? 1_000);
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP_SECONDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CALLERS = Number(process.env.BENCH_CALLERS ?? 200);
const SEED_FROM = process.env.BENCH_SEED_FROM;
const SEED_SAVE = process.env.BENCH_SEED_SAVE;
const CATCH_UP_TIMEOUT_MS = Number(process.env.BENCH_CATCH_UP_TIMEOUT_SECONDS ?? 3_600) * 1000;
/** After the last command, how long the projections may take to reach its position before the run fails. */
const DRAIN_TIMEOUT_MS = 120_000;
const TARGET = { queryP99Ms: 50, lagP99Ms: 1_000 };
/** How long the log must stay still, with no job queued, before the service counts as settled. */
const SETTLED_FOR_MS = 3_000;
/** The most of a core the service may use over SETTLED_FOR_MS and still count as settled. */
const QUIET_CPU_SHARE = 0.1;

const LINES_PER_ORDER = 4;
const BUYERS = 200;
const MERCHANT = 'm-lag-bench';
const SETUP_CALLERS = 50;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '–');
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');

/** Nearest rank. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function table(rows: string[][]): void {
  console.log(`| ${rows[0].join(' | ')} |`);
  console.log(`| ${rows[0].map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(`| ${row.join(' | ')} |`);
}

// ---------------------------------------------------------------------------
// The service's SQLite file, read on a connection of our own (as another process would)

/** The event log and the worker's tables in SQLITE_PATH; the read models in their own file beside it (readModelsPath). */
class StoreReader {
  private readonly events: Database.Database;
  private readonly db: Database.Database;

  constructor(sqlitePath: string) {
    this.events = new Database(sqlitePath, { readonly: true, fileMustExist: true, timeout: 5000 });
    this.db = new Database(readModelsPath(sqlitePath), { readonly: true, fileMustExist: true, timeout: 5000 });
  }

  head(): number {
    return (this.events.prepare('SELECT coalesce(max(global_position), 0) FROM es_events').pluck().get() as number) ?? 0;
  }

  /** Projections' (rm_) and reactors' (wk_) stored checkpoints; a table not created yet reads as none. */
  checkpoints(): { projections: Map<string, number>; reactors: Map<string, number> } {
    return { projections: this.positions(this.db, 'rm_checkpoints'), reactors: this.positions(this.events, 'wk_checkpoints') };
  }

  private positions(db: Database.Database, tableName: string): Map<string, number> {
    try {
      const rows = db.prepare(`SELECT name, position FROM ${tableName}`).all() as Array<{ name: string; position: number }>;
      return new Map(rows.map((r) => [r.name, r.position]));
    } catch {
      return new Map();
    }
  }

  /** When the event at `position` was appended (epoch ms). */
  recordedAt(position: number): number | undefined {
    return this.events.prepare('SELECT recorded_at FROM es_events WHERE global_position = ?').pluck().get(position) as number | undefined;
  }

  /** One value of `column` of the case list: the most or the least frequent. */
  frequent(column: 'merchant_id' | 'buyer_id', order: 'desc' | 'asc'): { value: string; cases: number } | undefined {
    const row = this.db
      .prepare(`SELECT ${column} AS value, count(*) AS cases FROM rm_case_list GROUP BY ${column} ORDER BY cases ${order}, value LIMIT 1`)
      .get() as { value: string; cases: number } | undefined;
    return row;
  }

  /** The rarest kind and reason that occur together (neither column is indexed: the list scans the newest-first index for them). */
  rarestKindAndReason(): { kind: string; reason: string; cases: number } | undefined {
    return this.db.prepare('SELECT kind, reason, count(*) AS cases FROM rm_case_list GROUP BY kind, reason ORDER BY cases, kind, reason LIMIT 1').get() as
      | { kind: string; reason: string; cases: number }
      | undefined;
  }

  caseRange(): { cases: number; first?: string; last?: string } {
    const row = this.db.prepare('SELECT count(*) AS cases, min(requested_at) AS first, max(requested_at) AS last FROM rm_case_list').get() as {
      cases: number;
      first: string | null;
      last: string | null;
    };
    return { cases: row.cases, first: row.first ?? undefined, last: row.last ?? undefined };
  }

  countWhere(sqlCondition: string, ...params: string[]): number {
    return this.db.prepare(`SELECT count(*) FROM rm_case_list WHERE ${sqlCondition}`).pluck().get(...params) as number;
  }

  close(): void {
    this.events.close();
    this.db.close();
  }
}

/**
 * Waits until every projection, and every reactor of the worker, has stored
 * the log's head (read at the same moment); returns how long it took.
 */
async function waitForCatchUp(reader: StoreReader, service: ChildServer, timeoutMs: number): Promise<{ seconds: number; head: number }> {
  const started = Date.now();
  let lastReport = started;
  for (;;) {
    const head = reader.head();
    const { projections, reactors } = reader.checkpoints();
    const behind = [...projections, ...reactors].filter(([, position]) => position < head);
    // The projector creates its checkpoint rows as it starts: wait until there are some.
    if (projections.size > 0 && behind.length === 0) return { seconds: (Date.now() - started) / 1000, head };
    if (service.process.exitCode !== null) throw new Error(`service exited while catching up:\n${service.output()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`not caught up after ${timeoutMs / 1000} s (head ${head}; behind: ${behind.map(([n, p]) => `${n} ${p}`).join(', ')})`);
    if (Date.now() - lastReport > 15_000) {
      lastReport = Date.now();
      const positions = [...projections, ...reactors].map(([n, p]) => `${n} ${int(p)}`).join(', ');
      console.log(`  catching up, ${((Date.now() - started) / 1000).toFixed(0)} s: head ${int(head)}; ${positions || 'no checkpoint stored yet'}`);
    }
    await sleep(200);
  }
}

/** Jobs waiting or running in every queue of the worker, from the service's /metrics. */
async function queuedJobs(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let jobs = 0;
  for (const line of text.split('\n')) {
    const match = /^(?:worker|webhook)_queue_jobs\{(?:queue="[^"]*",)?state="(?:waiting|active)"\} ([0-9.e+]+)$/.exec(line);
    if (match) jobs += Number(match[1]);
  }
  return jobs;
}

/**
 * Caught up is not yet quiet: a seeded history started later has deadlines
 * that fell due meanwhile, and the worker fires them (tens of thousands at
 * 200,000 cases) once its reactor has read them. Queries and lag are measured
 * on a service that has done so: no job waiting or running, no event
 * appended for SETTLED_FOR_MS, and the service's process using less than
 * QUIET_CPU_SHARE of a core over that time (the passes a start runs, such as
 * the repair pass reading the whole log, have ended: measured beside them,
 * the queries' p99 doubled).
 */
async function waitForSettled(reader: StoreReader, service: ChildServer, timeoutMs: number): Promise<{ seconds: number; head: number }> {
  const started = Date.now();
  let lastReport = started;
  let head = reader.head();
  let stillSince = Date.now();
  const cpu: Array<{ at: number; seconds: number }> = [];
  for (;;) {
    await sleep(500);
    const now = reader.head();
    if (now !== head) {
      head = now;
      stillSince = Date.now();
    }
    cpu.push({ at: Date.now(), seconds: processCpuSeconds(service.process.pid) });
    while (cpu.length > 1 && cpu[0].at < Date.now() - SETTLED_FOR_MS) cpu.shift();
    const window = cpu[cpu.length - 1].at - cpu[0].at;
    const share = window > 0 ? (cpu[cpu.length - 1].seconds - cpu[0].seconds) / (window / 1000) : 1;
    const jobs = await queuedJobs(service.baseUrl);
    if (jobs === 0 && Date.now() - stillSince >= SETTLED_FOR_MS && window >= SETTLED_FOR_MS - 1000 && share < QUIET_CPU_SHARE) {
      return { seconds: (Date.now() - started) / 1000, head };
    }
    if (service.process.exitCode !== null) throw new Error(`service exited while settling:\n${service.output()}`);
    if (Date.now() - started > timeoutMs) throw new Error(`not settled after ${timeoutMs / 1000} s (${jobs} jobs waiting or running; head ${head})`);
    if (Date.now() - lastReport > 15_000) {
      lastReport = Date.now();
      console.log(`  settling, ${((Date.now() - started) / 1000).toFixed(0)} s: ${int(jobs)} jobs waiting or running, head ${int(head)}, service at ${(share * 100).toFixed(0)} % of a core`);
    }
  }
}

// ---------------------------------------------------------------------------
// Queries

interface QuerySpec {
  label: string;
  path: string;
}

interface QueryResult {
  spec: QuerySpec;
  items: number;
  latencies: number[];
  failures: number;
  seconds: number;
}

async function caseListSpecs(client: BenchClient, headers: Record<string, string>, reader: StoreReader): Promise<QuerySpec[]> {
  const range = reader.caseRange();
  const merchant = reader.frequent('merchant_id', 'desc');
  const buyer = reader.frequent('buyer_id', 'desc');
  const rare = reader.rarestKindAndReason();
  const lastDay = range.last!.slice(0, 10);
  const dayStart = `${lastDay}T00:00:00.000Z`;
  const dayEnd = new Date(Date.parse(dayStart) + 86_400_000).toISOString();
  const monthStart = new Date(Date.parse(range.last!) - 30 * 86_400_000).toISOString();
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
  const q = (params: Record<string, string>) => `/v1/cases?${new URLSearchParams(params).toString()}`;

  const specs: QuerySpec[] = [
    { label: 'no filter (newest 50)', path: q({}) },
    { label: 'no filter, limit=200', path: q({ limit: '200' }) },
    { label: 'status=completed', path: q({ status: 'completed' }) },
    { label: `status=pending_merchant (${int(reader.countWhere("status = 'pending_merchant'"))} cases)`, path: q({ status: 'pending_merchant' }) },
    { label: `status=escalated (${int(reader.countWhere("status = 'escalated'"))} cases)`, path: q({ status: 'escalated' }) },
    ...(merchant ? [{ label: `merchantId (busiest, ${int(merchant.cases)} cases)`, path: q({ merchantId: merchant.value }) }] : []),
    ...(merchant
      ? [{ label: 'merchantId + status=completed + last 30 days', path: q({ merchantId: merchant.value, status: 'completed', from: monthStart, to: range.last! }) }]
      : []),
    ...(buyer ? [{ label: `buyerId (${int(buyer.cases)} cases)`, path: q({ buyerId: buyer.value }) }] : []),
    ...(rare ? [{ label: `kind=${rare.kind} + reason=${rare.reason} (rarest pair, ${int(rare.cases)} cases)`, path: q({ kind: rare.kind, reason: rare.reason }) }] : []),
    { label: 'kind=refund_only + reason=not_received', path: q({ kind: 'refund_only', reason: 'not_received' }) },
    { label: `from/to: one day (${lastDay})`, path: q({ from: dayStart, to: dayEnd }) },
    { label: 'deadlineBefore=tomorrow', path: q({ deadlineBefore: tomorrow }) },
  ];
  // Page 2 of a long list: the cursor of page 1, asked again and again (a cursor is stable).
  const first = await client.send('GET', q({ status: 'completed' }), headers);
  if (first.status === 200 && typeof first.json.nextCursor === 'string') {
    specs.push({ label: 'status=completed, page 2 (cursor)', path: q({ status: 'completed', cursor: first.json.nextCursor }) });
  }
  return specs;
}

function analyticsSpecs(reader: StoreReader): QuerySpec[] {
  const range = reader.caseRange();
  const from = `${range.first!.slice(0, 10)}T00:00:00.000Z`;
  const to = new Date(Date.parse(`${range.last!.slice(0, 10)}T00:00:00.000Z`) + 86_400_000).toISOString();
  const days = Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
  return [
    ...ANALYTICS_GROUPS.map((groupBy) => ({
      label: `groupBy=${groupBy}, every case (${days} days)`,
      path: `/v1/analytics/summary?${new URLSearchParams({ from, to, groupBy }).toString()}`,
    })),
    { label: 'defaults (groupBy=day, last 30 days)', path: '/v1/analytics/summary' },
  ];
}

async function measureQuery(client: BenchClient, headers: Record<string, string>, spec: QuerySpec): Promise<QueryResult> {
  const check = await client.send('GET', spec.path, headers);
  if (check.status !== 200 || !Array.isArray(check.json.items)) throw new Error(`${spec.label}: GET ${spec.path} answered ${check.status} ${JSON.stringify(check.json).slice(0, 500)}`);
  // Two more unmeasured: the query's pages are in the cache, as they would be on a service in use.
  for (let i = 0; i < 2; i++) await client.send('GET', spec.path, headers);
  const latencies: number[] = [];
  let failures = 0;
  let sent = 0;
  const started = performance.now();
  const stopAt = started + QUERY_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: QUERY_CONCURRENCY }, async () => {
      while (sent < QUERY_REQUESTS && performance.now() < stopAt) {
        sent += 1;
        const answer = await client.send('GET', spec.path, headers);
        if (answer.status === 200) latencies.push(answer.ms);
        else failures += 1;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { spec, items: (check.json.items as unknown[]).length, latencies, failures, seconds: (performance.now() - started) / 1000 };
}

async function queriesRun(service: ChildServer, reader: StoreReader): Promise<boolean> {
  const range = reader.caseRange();
  if (range.cases === 0) {
    console.log('[queries] the read store holds no cases (BENCH_CASES=0): nothing to query.');
    return true;
  }
  const admin = { authorization: `Bearer ${await developmentToken({ sub: 'admin-bench', role: 'admin' })}` };
  const client = new BenchClient(service.baseUrl, QUERY_CONCURRENCY);
  try {
    const specs = [...(await caseListSpecs(client, admin, reader)), ...analyticsSpecs(reader)];
    console.log(
      `[queries] ${int(range.cases)} cases requested ${range.first} to ${range.last}; ${specs.length} queries, up to ${QUERY_REQUESTS} requests each (≤ ${QUERY_SECONDS} s) from ${QUERY_CONCURRENCY} callers, admin token. Load average: ${load()}`,
    );
    const cpuBefore = processCpuSeconds(service.process.pid);
    const started = performance.now();
    const results: QueryResult[] = [];
    for (const spec of specs) {
      const result = await measureQuery(client, admin, spec);
      results.push(result);
      console.log(`  ${spec.label}: ${result.latencies.length} requests, p99 ${ms(percentile(result.latencies, 99))}`);
    }
    const cpu = processCpuSeconds(service.process.pid) - cpuBefore;
    const elapsed = (performance.now() - started) / 1000;
    console.log('');
    console.log(`Queries on ${int(range.cases)} cases (${QUERY_CONCURRENCY} concurrent callers; admin; service ${((100 * cpu) / elapsed).toFixed(0)}% of a core over the ${elapsed.toFixed(0)} s):`);
    const rows = [['query', 'requests', 'items', 'p50', 'p99', 'max', 'requests/s', `p99 ≤ ${TARGET.queryP99Ms} ms`]];
    for (const r of results) {
      const p99 = percentile(r.latencies, 99);
      rows.push([
        `\`${r.spec.path.startsWith('/v1/cases') ? 'GET /v1/cases' : 'GET /v1/analytics/summary'}\` ${r.spec.label}`,
        `${r.latencies.length}${r.failures > 0 ? ` (+${r.failures} failed)` : ''}`,
        String(r.items),
        ms(percentile(r.latencies, 50)),
        ms(p99),
        ms(r.latencies[r.latencies.length - 1]),
        int(r.latencies.length / r.seconds),
        verdict(p99 <= TARGET.queryP99Ms && r.failures === 0),
      ]);
    }
    table(rows);
    const met = results.filter((r) => percentile(r.latencies, 99) <= TARGET.queryP99Ms && r.failures === 0).length;
    console.log(`Target p99 ≤ ${TARGET.queryP99Ms} ms: met by ${met} of ${results.length} queries.`);
    return results.every((r) => r.failures === 0);
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------------------
// Lag under commands

interface Tokens {
  integration: string;
  merchant: string;
  buyers: string[];
}

let keysDrawn = 0;
const keyPrefix = `rm-bench-${Date.now().toString(36)}-`;
/** A key no other request of this run used: API.md asks for one on every command. */
const nextKey = (): string => `${keyPrefix}${++keysDrawn}`;

const orderId = (order: number): string => `o-lag-${order}`;

function orderBody(order: number) {
  const lines = Array.from({ length: LINES_PER_ORDER }, (_, i) => ({
    lineId: `L${i + 1}`,
    sku: `sku-${i + 1}`,
    productId: `p-lag-${(order + i) % 97}`,
    title: `Product ${i + 1}`,
    category: i % 2 === 0 ? 'apparel' : 'electronics',
    supplierId: `s-lag-${i % 7}`,
    quantity: 1,
    unitPrice: 12_000,
    paidAmount: 12_000,
    noReasonReturn: true,
  }));
  return {
    buyerId: `b-lag-${order % BUYERS}`,
    merchantId: MERCHANT,
    currency: 'CNY',
    paidAmount: LINES_PER_ORDER * 12_000 + 800,
    shippingFee: 800,
    paymentMethod: 'card',
    paymentAccount: `acct-lag-${order % BUYERS}`,
    // Below autoReviewMinTrust and shipped: no auto-review, each case waits for the merchant's approve.
    buyerTrustScore: 500,
    returnShippingInsured: false,
    businessLine: 'apparel',
    placedAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    lines,
  };
}

function post(client: BenchClient, path: string, bearer: string, body: unknown, method = 'POST'): Promise<Answer> {
  return client.send(method, path, { authorization: `Bearer ${bearer}`, 'idempotency-key': nextKey() }, body);
}

/** Registers and ships orders [0, count) from SETUP_CALLERS callers. */
async function registerOrders(client: BenchClient, tokens: Tokens, count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SETUP_CALLERS }, async () => {
      while (next < count) {
        const order = next++;
        const put = await post(client, `/v1/orders/${orderId(order)}`, tokens.integration, orderBody(order), 'PUT');
        if (put.status !== 201) throw new Error(`PUT order ${order}: ${put.status} ${JSON.stringify(put.json)}`);
        const shipped = await post(client, `/v1/orders/${orderId(order)}/shipped`, tokens.integration, {
          carrier: 'SF',
          trackingNumber: `SF-LAG-${order}`,
          shippedAt: new Date(Date.now() - 86_400_000).toISOString(),
        });
        if (shipped.status !== 200) throw new Error(`ship order ${order}: ${shipped.status} ${JSON.stringify(shipped.json)}`);
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

interface Slot {
  order: number;
  line: number;
}

/** Line-major over the orders, so that chains in flight together fall on different order streams. */
function slots(orders: number): Slot[] {
  const all: Slot[] = [];
  for (let line = 1; line <= LINES_PER_ORDER; line++) for (let order = 0; order < orders; order++) all.push({ order, line });
  return all;
}

interface Answered {
  kind: 'open' | 'approve';
  status: number;
  position?: number;
  at: number;
  ms: number;
}

interface Drive {
  answers: Answered[];
  /** Chains due that were not started: BENCH_CALLERS in flight already, or no free line left. */
  skipped: number;
  transportErrors: number;
  errorSamples: string[];
  measuredFrom: number;
  endedAt: number;
}

/**
 * Starts open → approve chains at a steady pace (a tick every 5 ms starts
 * those due), whether or not earlier ones have been answered, up to CALLERS
 * in flight; a chain due beyond that is skipped and counted, so the rate
 * achieved shows.
 */
async function driveCommands(client: BenchClient, tokens: Tokens, free: Slot[]): Promise<Drive> {
  const chainsPerSecond = COMMANDS_PER_SECOND / 2;
  const drive: Drive = { answers: [], skipped: 0, transportErrors: 0, errorSamples: [], measuredFrom: 0, endedAt: 0 };
  const record = (kind: Answered['kind'], answer: Answer) => {
    const position = typeof answer.json.position === 'number' ? answer.json.position : undefined;
    drive.answers.push({ kind, status: answer.status, position, at: answer.at, ms: answer.ms });
    if ((answer.status < 200 || answer.status >= 300) && drive.errorSamples.length < 5) {
      drive.errorSamples.push(`${kind} ${answer.status}: ${JSON.stringify(answer.json).slice(0, 300)}`);
    }
  };
  const chain = async (slot: Slot): Promise<void> => {
    try {
      const opened = await post(client, '/v1/cases', tokens.buyers[slot.order % BUYERS], {
        orderId: orderId(slot.order),
        kind: 'refund_only',
        reason: slot.line % 2 === 0 ? 'changed_mind' : 'not_received',
        lines: [{ lineId: `L${slot.line}`, quantity: 1 }],
      });
      record('open', opened);
      if (opened.status !== 201) return;
      const approved = await post(client, `/v1/cases/${String(opened.json.caseId)}/approve`, tokens.merchant, {});
      record('approve', approved);
    } catch {
      drive.transportErrors += 1;
    }
  };

  let next = 0;
  let started = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  const begin = performance.now();
  drive.measuredFrom = Date.now() + WARM_UP_SECONDS * 1000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - begin) / 1000;
      if (elapsed >= WARM_UP_SECONDS + SECONDS) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(elapsed * chainsPerSecond) - started - drive.skipped;
      for (let i = 0; i < due; i++) {
        if (inFlight >= CALLERS || next >= free.length) {
          drive.skipped += 1;
          continue;
        }
        started += 1;
        inFlight += 1;
        const running: Promise<void> = chain(free[next++]).finally(() => {
          inFlight -= 1;
          pending.delete(running);
        });
        pending.add(running);
      }
    }, 5);
  });
  drive.endedAt = Date.now();
  await Promise.all(pending);
  return drive;
}

/** Waits until every projection has stored `position`. */
async function waitForProjections(reader: StoreReader, position: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { projections } = reader.checkpoints();
    const behind = [...projections].filter(([, p]) => p < position);
    if (projections.size > 0 && behind.length === 0) return;
    if (Date.now() > until) throw new Error(`projections not at ${position} ${timeoutMs / 1000} s after the last command: ${behind.map(([n, p]) => `${n} ${p}`).join(', ')}`);
    await sleep(50);
  }
}

interface LagRow {
  name: string;
  lags: number[];
  fromAppend: number[];
  notReached: number;
  moves: number;
}

function lagRows(history: CheckpointHistory, measured: Answered[], reader: StoreReader): LagRow[] {
  const appendedAt = new Map<number, number | undefined>();
  for (const a of measured) if (!appendedAt.has(a.position!)) appendedAt.set(a.position!, reader.recordedAt(a.position!));
  const rows: LagRow[] = history.projections.map((name) => ({ name, lags: [], fromAppend: [], notReached: 0, moves: history.moves(name) }));
  const slowest: LagRow = { name: 'every projection (the slowest for each command)', lags: [], fromAppend: [], notReached: 0, moves: Number.NaN };
  for (const answer of measured) {
    const position = answer.position!;
    let worst = 0;
    let worstFromAppend = 0;
    let missed = false;
    for (const row of rows) {
      const reached = history.reachedAt(row.name, position);
      if (reached === undefined) {
        row.notReached += 1;
        missed = true;
        continue;
      }
      // Seen before the client had the answer: no lag to speak of (the answer was on its way).
      const lag = Math.max(0, reached - answer.at);
      row.lags.push(lag);
      worst = Math.max(worst, lag);
      const appended = appendedAt.get(position);
      if (appended !== undefined) {
        row.fromAppend.push(Math.max(0, reached - appended));
        worstFromAppend = Math.max(worstFromAppend, reached - appended);
      }
    }
    if (missed) slowest.notReached += 1;
    else {
      slowest.lags.push(worst);
      slowest.fromAppend.push(worstFromAppend);
    }
  }
  for (const row of [...rows, slowest]) {
    row.lags.sort((a, b) => a - b);
    row.fromAppend.sort((a, b) => a - b);
  }
  return [...rows, slowest];
}

async function lagRun(service: ChildServer, reader: StoreReader, sqlitePath: string): Promise<boolean> {
  const tokens: Tokens = {
    integration: await developmentToken({ sub: 'order-system', role: 'integration' }),
    merchant: await developmentToken({ sub: `${MERCHANT}-staff`, role: 'merchant', merchantId: MERCHANT }),
    buyers: await Promise.all(Array.from({ length: BUYERS }, (_, i) => developmentToken({ sub: `b-lag-${i}`, role: 'buyer' }))),
  };
  const client = new BenchClient(service.baseUrl, Math.max(CALLERS, SETUP_CALLERS));
  try {
    // Lines for every chain the pace asks for, with a fifth more.
    const chainsNeeded = Math.ceil((COMMANDS_PER_SECOND / 2) * (WARM_UP_SECONDS + SECONDS) * 1.2);
    const orders = Math.ceil(chainsNeeded / LINES_PER_ORDER);
    const orderRate = await registerOrders(client, tokens, orders);
    console.log(`[lag] registered and shipped ${int(orders)} orders of ${LINES_PER_ORDER} lines (${int(orderRate)} orders/s, two commands each, keyed)`);
    await waitForProjections(reader, reader.head(), DRAIN_TIMEOUT_MS);

    console.log(
      `[lag] open → approve at ${int(COMMANDS_PER_SECOND)} commands/s (${int(COMMANDS_PER_SECOND / 2)} chains/s, ≤ ${CALLERS} in flight), ${WARM_UP_SECONDS} s warm-up + ${SECONDS} s measured; load average ${load()}`,
    );
    const watch = watchCheckpoints(readModelsPath(sqlitePath));
    const cpuBefore = { server: processCpuSeconds(service.process.pid), driver: process.cpuUsage() };
    const writesBefore = await httpWrites(service.baseUrl);
    const rolesBefore = await roleCpuSeconds(service.baseUrl);
    const driveStarted = performance.now();
    const drive = await driveCommands(client, tokens, slots(orders));
    const driveSeconds = (performance.now() - driveStarted) / 1000;
    const writesAfter = await httpWrites(service.baseUrl);
    const rolesAfter = await roleCpuSeconds(service.baseUrl);
    const driverUsed = process.cpuUsage(cpuBefore.driver);
    const serverCpu = processCpuSeconds(service.process.pid) - cpuBefore.server;
    const lastPosition = drive.answers.reduce((max, a) => Math.max(max, a.position ?? 0), 0);
    await waitForProjections(reader, lastPosition, DRAIN_TIMEOUT_MS);
    const history = await watch.stop();

    const measured = drive.answers.filter((a) => a.at >= drive.measuredFrom && a.status >= 200 && a.status < 300 && a.position !== undefined);
    const inWindow = measured.filter((a) => a.at <= drive.endedAt);
    const windowSeconds = (drive.endedAt - drive.measuredFrom) / 1000;
    const failed = drive.answers.filter((a) => a.status < 200 || a.status >= 300);
    const latency = (kind: Answered['kind']) => measured.filter((a) => a.kind === kind).map((a) => a.ms).sort((a, b) => a - b);
    const opens = latency('open');
    const approves = latency('approve');
    const wall = (WARM_UP_SECONDS + SECONDS) * 1000 + (Date.now() - drive.endedAt);

    console.log('');
    console.log(
      `Commands: ${int(inWindow.length / windowSeconds)} commands/s answered 2xx in the ${windowSeconds.toFixed(1)} s measured (asked: ${int(COMMANDS_PER_SECOND)}/s); ` +
        `open p50 ${ms(percentile(opens, 50))} p99 ${ms(percentile(opens, 99))}, approve p50 ${ms(percentile(approves, 50))} p99 ${ms(percentile(approves, 99))}; ` +
        `non-2xx ${failed.length}, transport errors ${drive.transportErrors}, chains skipped (callers busy or no line left) ${int(drive.skipped)}.`,
    );
    for (const sample of drive.errorSamples) console.log(`  ${sample}`);
    // What reached the API over HTTP, whoever sent it: the chains' commands and the payment centre's signed callbacks.
    const writes = [...writesAfter].map(([route, n]) => [route, n - (writesBefore.get(route) ?? 0)] as const).filter(([, n]) => n > 0);
    const allWrites = writes.reduce((total, [, n]) => total + n, 0);
    console.log(
      `Commands the API answered 2xx over HTTP during the drive (http_requests_total, warm-up included): ${int(allWrites / driveSeconds)}/s in all; ` +
        writes.map(([route, n]) => `${route} ${int(n / driveSeconds)}/s`).join(', ') +
        '.',
    );
    console.log(
      `CPU over the drive: service ${((100 * serverCpu) / (wall / 1000)).toFixed(0)}% of a core, load generator ${((100 * (driverUsed.user + driverUsed.system)) / 1e6 / (wall / 1000)).toFixed(0)}%; ` +
        `checkpoints polled every ${history.pollIntervalMs.toFixed(1)} ms on average (the resolution of the lags below).`,
    );
    const commandsDriven = drive.answers.filter((a) => a.status >= 200 && a.status < 300).length;
    if (rolesAfter.size > 0) console.log(`CPU per command answered 2xx, by role thread (warm-up included): ${rolesPer(rolesBefore, rolesAfter, commandsDriven)}; whole service ${((1000 * serverCpu) / commandsDriven).toFixed(3)} ms.`);
    console.log('');
    console.log(`Projection lag: from a command's answer (its \`position\`) to the projection's stored checkpoint at or past it; ${int(measured.length)} commands answered after the warm-up.`);
    const rows = [['projection', 'commands', 'p50', 'p99', 'max', 'p99 from the append', 'checkpoint moves seen', 'not reached', `p99 ≤ ${int(TARGET.lagP99Ms)} ms`]];
    const lags = lagRows(history, measured, reader);
    for (const row of lags) {
      rows.push([
        row.name,
        int(row.lags.length),
        ms(percentile(row.lags, 50)),
        ms(percentile(row.lags, 99)),
        ms(row.lags[row.lags.length - 1]),
        ms(percentile(row.fromAppend, 99)),
        Number.isNaN(row.moves) ? '' : int(row.moves),
        String(row.notReached),
        verdict(row.notReached === 0 && percentile(row.lags, 99) <= TARGET.lagP99Ms),
      ]);
    }
    table(rows);
    const perProjection = lags.slice(0, -1);
    const met = perProjection.every((row) => row.notReached === 0 && percentile(row.lags, 99) <= TARGET.lagP99Ms);
    const rateMet = inWindow.length / windowSeconds >= 0.95 * COMMANDS_PER_SECOND;
    console.log(
      `Target: lag p99 ≤ ${int(TARGET.lagP99Ms)} ms for every projection: ${verdict(met)}; ` +
        `while ${int(COMMANDS_PER_SECOND)} commands/s arrive (≥ 95% of it answered): ${verdict(rateMet)}.`,
    );
    return failed.length === 0 && drive.transportErrors === 0 && measured.length > 0;
  } finally {
    client.close();
  }
}

/** 2xx answers to POST, PUT and DELETE so far, by `METHOD route` (from the service's /metrics). */
async function httpWrites(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const writes = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^http_requests_total\{method="(POST|PUT|DELETE)",route="([^"]*)",status="2\d\d"\} ([0-9.e+]+)$/.exec(line);
    if (match) writes.set(`${match[1]} ${match[2]}`, (writes.get(`${match[1]} ${match[2]}`) ?? 0) + Number(match[3]));
  }
  return writes;
}

/**
 * Every SQLite file of a saved folder (`aftersales*.db`: the event store and, when saved from a stopped
 * service, its read models), with their write-ahead logs.
 */
function copySavedFolder(from: string, sqlitePath: string): string[] {
  const files = readdirSync(from).filter((name) => /^aftersales.*\.db$/.test(name));
  if (!files.includes('aftersales.db')) throw new Error(`no seeded event store at ${join(from, 'aftersales.db')}`);
  for (const name of files) copySqliteFile(join(from, name), join(dirname(sqlitePath), name));
  return files;
}

/** A SQLite file and its write-ahead log, if the process that wrote it left one (the seed has exited: nothing writes either). */
function copySqliteFile(from: string, to: string): void {
  if (!existsSync(from)) throw new Error(`no seeded event store at ${from}`);
  copyFileSync(from, to);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
    else rmSync(to + suffix, { force: true });
  }
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`Machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}, ${new Date().toISOString()}`);
  console.log(`Load average at start: ${load()}`);
  for (const run of RUNS) if (run !== 'queries' && run !== 'lag') throw new Error(`BENCH_READ_MODELS_RUN must be queries or lag, not ${run}`);
  const dir = mkdtempSync(join(tmpdir(), 'aftersales-bench-read-models-'));
  const sqlitePath = join(dir, 'aftersales.db');
  let service: ChildServer | undefined;
  let reader: StoreReader | undefined;
  let valid = true;
  try {
    if (SEED_FROM) {
      const files = copySavedFolder(SEED_FROM, sqlitePath);
      console.log(`Copied ${files.join(', ')} from ${SEED_FROM} (BENCH_SEED_FROM); BENCH_CASES and BENCH_DAYS are ignored: the saved seed holds what it was made with.`);
    } else if (CASES > 0) {
      console.log(`Seeding ${int(CASES)} cases over ${DAYS} days (npm run cli -- seed) into ${sqlitePath}...`);
      const seeded = await runCliSeed(sqlitePath, { cases: CASES, days: DAYS }, (line) => console.log(`  ${line}`));
      const lines = seeded.summary.split('\n');
      for (const line of lines.filter((l) => /^(Seeded|Events written)/.test(l))) console.log(`  ${line}`);
      console.log(`Seed done in ${seeded.seconds.toFixed(1)} s.`);
      if (SEED_SAVE) {
        mkdirSync(SEED_SAVE, { recursive: true });
        copySqliteFile(sqlitePath, join(SEED_SAVE, 'aftersales.db'));
        console.log(`Seeded event store saved to ${SEED_SAVE} (BENCH_SEED_SAVE).`);
      }
    }

    const serviceStarted = Date.now();
    service = await startService({ SQLITE_PATH: sqlitePath, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '10000000' });
    await waitForReady(service, '/health', 300_000);
    reader = new StoreReader(sqlitePath);
    const head = reader.head();
    console.log(`Service up on ${service.baseUrl} after ${((Date.now() - serviceStarted) / 1000).toFixed(1)} s; the log holds ${int(head)} events. Projections and reactors catching up...`);
    const caughtUp = await waitForCatchUp(reader, service, CATCH_UP_TIMEOUT_MS);
    console.log(`Caught up with ${int(caughtUp.head)} events ${caughtUp.seconds.toFixed(1)} s after /health answered (${int(head / Math.max(caughtUp.seconds, 0.001))} events/s into every projection at once).`);
    const settled = await waitForSettled(reader, service, CATCH_UP_TIMEOUT_MS);
    console.log(
      `Settled ${settled.seconds.toFixed(1)} s later: no job waiting or running in the worker's queues, the log still and the service under ${QUIET_CPU_SHARE * 100} % of a core for ${SETTLED_FOR_MS / 1000} s at ${int(settled.head)} events (overdue seeded deadlines fired meanwhile).`,
    );
    console.log('');

    for (const run of RUNS) {
      if (run === 'queries') valid = (await queriesRun(service, reader)) && valid;
      else valid = (await lagRun(service, reader, sqlitePath)) && valid;
      console.log('');
    }
    const exitCode = await service.stop();
    service = undefined;
    if (exitCode !== 0) {
      console.log(`Service exited with ${exitCode}`);
      valid = false;
    }
    console.log(`Valid run (every request answered 2xx, service stopped cleanly): ${valid ? 'yes' : 'NO'}.`);
    console.log(`Whole run: ${((Date.now() - started) / 1000).toFixed(0)} s. Load average at the end: ${load()}.`);
    if (!valid) process.exitCode = 1;
  } finally {
    reader?.close();
    if (service) {
      await service.stop();
      console.log(service.output().slice(-3000));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// scripts/bench.js awaits this and fails the run loudly if it never settles.
export const finished: Promise<void> = main();
