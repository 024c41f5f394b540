/*
 * Command API benchmark: the service started as `npm start` starts it (SQLite
 * in a temporary folder, durable appends, its own redis-server), driven over
 * HTTP by autocannon with open-case → approve chains on 50 connections, and a
 * bare Nest endpoint with the same ValidationPipe driven the same way, in one
 * run. `npm run bench:commands`; results go to bench/RESULTS.md.
 *
 * Every command carries an Idempotency-Key, as API.md asks of clients; the
 * measured run is made twice, without keys and then with them, so the cost
 * of keys shows (BENCH_KEYS=with or =without makes one of the two).
 *
 * BENCH_ROLES=api starts the API role alone (`dist/apps/api/src/main.js`,
 * README "Scaling out") instead of every role in one process: what one API
 * process does with the machine to itself. Nothing then follows the log, so
 * no refund is paid and no payment callback comes back: each chain is two
 * requests to the API instead of three, and the figure is that role's
 * capacity, not the service's. The target is judged on the default.
 *
 * BENCH_SECONDS changes the measured duration (default 20); BENCH_CPU_PROF=1
 * runs the service under --cpu-prof and prints where its time went during the
 * measured run (BENCH_CPU_PROF_DIR=<folder> keeps the .cpuprofile for DevTools).
 * BENCH_PROBE=1 preloads bench/support/stall-probe into the service and
 * prints every event-loop stall, slow SQLite call (any connection, any
 * thread) and long GC pause it saw, placed in the measured runs.
 */
import { SignJWT } from 'jose';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVELOPMENT_JWT_SECRET } from '@aftersales/config';
import { startRole, startScript, startService, waitForOutput, waitForReady, type ChildServer } from './support/service';
import type { ProbeRecord } from './support/stall-probe';
import { cpuModel, processCpuSeconds } from './support/machine';

const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARM_UP_SECONDS = 5;
const LINES_PER_ORDER = 4;
const BUYERS = 200;
const MERCHANT = 'm-bench';
/** Cases the warm-up may open: above what the target (1,000 cases/s) would use. */
const WARM_UP_CASES = 1_500 * WARM_UP_SECONDS;
const SETUP_CALLERS = 50;
const TARGET = { commandsPerSecond: 2_000, p99Ms: 50 };
const PROFILE = process.env.BENCH_CPU_PROF === '1';
const KEEP_PROFILE_IN = process.env.BENCH_CPU_PROF_DIR;
const PROBE = process.env.BENCH_PROBE === '1';
/** `api`: the API role alone (its own entry), no worker or projector; unset: every role, as `npm start` runs them. */
const ROLES = process.env.BENCH_ROLES === 'api' ? 'api' : 'all';
type KeyMode = 'without keys' | 'with keys';
const KEY_MODES: KeyMode[] =
  process.env.BENCH_KEYS === 'with' ? ['with keys'] : process.env.BENCH_KEYS === 'without' ? ['without keys'] : ['without keys', 'with keys'];

/** A key no earlier request of this run used. */
let keysDrawn = 0;
const runKeyPrefix = `bench-${Date.now().toString(36)}-`;
const nextKey = (): string => `${runKeyPrefix}${++keysDrawn}`;

// ---------------------------------------------------------------------------
// autocannon 8 ships no types; this is the part of its API used here.

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest | null;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
  timeout?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  requests?: AutocannonRequest[];
}
interface AutocannonClient {
  requestIterator: { currentRequestIndex: number };
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: AutocannonClient, status: number, bytes: number, ms: number) => void): void;
  stop(): void;
}
const autocannon = require('autocannon') as (options: AutocannonOptions) => AutocannonInstance;

// ---------------------------------------------------------------------------

const encoder = new TextEncoder();
async function token(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setIssuer('aftersales')
    .setAudience('aftersales-api')
    .setExpirationTime(now + 3600)
    .sign(encoder.encode(DEVELOPMENT_JWT_SECRET));
}

const buyerId = (order: number): string => `b-${order % BUYERS}`;
const orderId = (order: number): string => `o-bench-${order}`;

function orderBody(order: number) {
  const day = 86_400_000;
  const lines = Array.from({ length: LINES_PER_ORDER }, (_, i) => ({
    lineId: `L${i + 1}`,
    sku: `sku-${i + 1}`,
    productId: `p-${(order + i) % 97}`,
    title: `Product ${i + 1}`,
    category: i % 2 === 0 ? 'apparel' : 'electronics',
    supplierId: `s-${i % 7}`,
    quantity: 1,
    unitPrice: 12_000,
    paidAmount: 12_000,
    noReasonReturn: true,
  }));
  return {
    buyerId: buyerId(order),
    merchantId: MERCHANT,
    currency: 'CNY',
    paidAmount: LINES_PER_ORDER * 12_000 + 800,
    shippingFee: 800,
    paymentMethod: 'card',
    paymentAccount: `acct-${order % BUYERS}`,
    // Below autoReviewMinTrust (600), and the order is shipped: no auto-review
    // rule matches, so every case waits for the merchant's approve.
    buyerTrustScore: 500,
    returnShippingInsured: false,
    businessLine: 'apparel',
    placedAt: new Date(Date.now() - 2 * day).toISOString(),
    lines,
  };
}

interface Tokens {
  integration: string;
  merchant: string;
  buyers: string[];
}

/** One case to open: an order line no other case holds. */
interface Slot {
  order: number;
  line: number;
}

/**
 * The lines still free, handed out line-major over a batch of orders so that
 * consecutive cases (the 50 in flight) fall on different order streams; an
 * order comes round again only after the whole batch has been walked.
 */
class SlotPool {
  private readonly slots: Slot[] = [];
  private next = 0;
  nextOrder = 0;

  addOrders(first: number, count: number): void {
    for (let line = 1; line <= LINES_PER_ORDER; line++) {
      for (let order = first; order < first + count; order++) this.slots.push({ order, line });
    }
    this.nextOrder = Math.max(this.nextOrder, first + count);
  }

  take(): Slot | undefined {
    return this.next < this.slots.length ? this.slots[this.next++] : undefined;
  }

  get left(): number {
    return this.slots.length - this.next;
  }
}

async function call(baseUrl: string, method: string, path: string, bearer: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', 'idempotency-key': nextKey() },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Registers and ships orders [first, first + count) from 50 concurrent callers; returns orders/s. */
async function registerOrders(baseUrl: string, tokens: Tokens, first: number, count: number): Promise<number> {
  let next = first;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SETUP_CALLERS }, async () => {
      while (next < first + count) {
        const order = next++;
        const put = await call(baseUrl, 'PUT', `/v1/orders/${orderId(order)}`, tokens.integration, orderBody(order));
        if (put.status !== 201) throw new Error(`PUT order ${order}: ${put.status} ${JSON.stringify(put.json)}`);
        const shipped = await call(baseUrl, 'POST', `/v1/orders/${orderId(order)}/shipped`, tokens.integration, {
          carrier: 'SF',
          trackingNumber: `SF${order}`,
          shippedAt: new Date(Date.now() - 86_400_000).toISOString(),
        });
        if (shipped.status !== 200) throw new Error(`ship order ${order}: ${shipped.status} ${JSON.stringify(shipped.json)}`);
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

function caseRequest(slot: Slot): string {
  return JSON.stringify({
    orderId: orderId(slot.order),
    kind: 'refund_only',
    // Shipped, not delivered: refund_only is allowed for either reason.
    reason: slot.line % 2 === 0 ? 'changed_mind' : 'not_received',
    lines: [{ lineId: `L${slot.line}`, quantity: 1 }],
  });
}

/** Before any load: one chain by hand, so the driver is known to ask for what it means to. */
async function sanityCheck(baseUrl: string, tokens: Tokens, pool: SlotPool): Promise<void> {
  const slot = pool.take();
  if (!slot) throw new Error('empty pool');
  const opened = await call(baseUrl, 'POST', '/v1/cases', tokens.buyers[slot.order % BUYERS], JSON.parse(caseRequest(slot)));
  if (opened.status !== 201 || opened.json.status !== 'pending_merchant') {
    throw new Error(`open: expected 201 pending_merchant, got ${opened.status} ${JSON.stringify(opened.json)}`);
  }
  const approved = await call(baseUrl, 'POST', `/v1/cases/${String(opened.json.caseId)}/approve`, tokens.merchant, {});
  if (approved.status !== 200 || approved.json.status !== 'refunding') {
    throw new Error(`approve: expected 200 refunding, got ${approved.status} ${JSON.stringify(approved.json)}`);
  }
}

// ---------------------------------------------------------------------------
// Measuring

const KINDS = ['open', 'approve'] as const;
type Kind = (typeof KINDS)[number];

interface Run {
  seconds: number;
  /** The measured window on the monotonic clock, in µs (the clock V8's CPU profiles use). */
  window: [number, number];
  /** The same window in wall-clock milliseconds (the clock the stall probe writes). */
  wallClock: [number, number];
  /** CPU seconds the server process and this (load-generating) process used in the window. */
  cpu: { server: number; driver: number };
  latencies: Record<Kind | 'all', number[]>;
  statuses: Record<Kind, Map<number, number>>;
  errorSamples: string[];
  transportErrors: number;
  timeouts: number;
  exhausted: boolean;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function newRun(): Run {
  return {
    seconds: 0,
    window: [0, 0],
    wallClock: [0, 0],
    cpu: { server: Number.NaN, driver: Number.NaN },
    latencies: { open: [], approve: [], all: [] },
    statuses: { open: new Map(), approve: new Map() },
    errorSamples: [],
    transportErrors: 0,
    timeouts: 0,
    exhausted: false,
  };
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

async function drive(
  options: AutocannonOptions,
  server: ChildServer,
  kindOf: (client: AutocannonClient) => Kind,
  run: Run,
  onTick?: (instance: AutocannonInstance) => void,
): Promise<Run> {
  const serverCpu = processCpuSeconds(server.process.pid);
  const driverCpu = process.cpuUsage();
  run.window[0] = monotonicUs();
  run.wallClock[0] = Date.now();
  const instance = autocannon({ pipelining: 1, timeout: 10, ...options });
  instance.on('response', (client, status, _bytes, ms) => {
    const kind = kindOf(client);
    run.statuses[kind].set(status, (run.statuses[kind].get(status) ?? 0) + 1);
    if (status >= 200 && status < 300) {
      run.latencies[kind].push(ms);
      run.latencies.all.push(ms);
    }
  });
  const timer = onTick ? setInterval(() => onTick(instance), 100) : undefined;
  const result = await instance;
  run.window[1] = monotonicUs();
  run.wallClock[1] = Date.now();
  const driverUsed = process.cpuUsage(driverCpu);
  run.cpu = { server: processCpuSeconds(server.process.pid) - serverCpu, driver: (driverUsed.user + driverUsed.system) / 1e6 };
  if (timer) clearInterval(timer);
  run.seconds = result.duration;
  run.transportErrors = result.errors;
  run.timeouts = result.timeouts;
  for (const list of Object.values(run.latencies)) list.sort((a, b) => a - b);
  return run;
}

/** open → approve on each connection; autocannon resets the context after each chain. */
function commandRequests(tokens: Tokens, pool: SlotPool, run: Run, keys: KeyMode): AutocannonRequest[] {
  const buyerHeaders = tokens.buyers.map((t) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' }));
  const merchantHeaders = { authorization: `Bearer ${tokens.merchant}`, 'content-type': 'application/json' };
  const keyed = (headers: Record<string, string>) => (keys === 'with keys' ? { ...headers, 'idempotency-key': nextKey() } : headers);
  const keepError = (kind: Kind, status: number, body: string) => {
    if ((status < 200 || status >= 300) && run.errorSamples.length < 5) run.errorSamples.push(`${kind} ${status}: ${body.slice(0, 300)}`);
  };
  return [
    {
      method: 'POST',
      path: '/v1/cases',
      setupRequest(request) {
        let slot = pool.take();
        if (!slot) {
          // Out of free lines: reuse one so the request is well formed; its
          // refusal (422, line held) makes the run invalid, and it is stopped.
          run.exhausted = true;
          slot = { order: 0, line: 1 };
        }
        return { ...request, headers: keyed(buyerHeaders[slot.order % BUYERS]), body: caseRequest(slot) };
      },
      onResponse(status, body, context) {
        keepError('open', status, body);
        if (status === 201) context.caseId = (JSON.parse(body) as { caseId: string }).caseId;
      },
    },
    {
      method: 'POST',
      setupRequest(request, context) {
        // No case to approve (the open failed): autocannon skips to the next chain.
        if (typeof context.caseId !== 'string') return null;
        return { ...request, path: `/v1/cases/${context.caseId}/approve`, headers: keyed(merchantHeaders), body: '{}' };
      },
      onResponse(status, body) {
        keepError('approve', status, body);
      },
    },
  ];
}

async function driveCommands(service: ChildServer, tokens: Tokens, pool: SlotPool, seconds: number, keys: KeyMode): Promise<Run> {
  const run = newRun();
  return drive(
    { url: service.baseUrl, connections: CONNECTIONS, duration: seconds, requests: commandRequests(tokens, pool, run, keys) },
    service,
    (client) => (client.requestIterator.currentRequestIndex === 0 ? 'open' : 'approve'),
    run,
    (instance) => {
      if (run.exhausted) instance.stop();
    },
  );
}

async function driveBare(bare: ChildServer, seconds: number): Promise<Run> {
  const run = newRun();
  const body = caseRequest({ order: 1, line: 1 });
  return drive(
    { url: `${bare.baseUrl}/v1/cases`, connections: CONNECTIONS, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json' }, body },
    bare,
    () => 'open',
    run,
  );
}

function count(run: Run, kind: Kind | 'all', ok: boolean): number {
  const kinds = kind === 'all' ? KINDS : [kind];
  let n = 0;
  for (const k of kinds) for (const [status, c] of run.statuses[k]) if ((status >= 200 && status < 300) === ok) n += c;
  return n;
}

// ---------------------------------------------------------------------------
// The service's own view of the measured run, from /metrics

type Metrics = Map<string, number>;

async function scrape(baseUrl: string): Promise<Metrics> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const metrics: Metrics = new Map();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) ([0-9.e+-]+|NaN)$/.exec(line);
    if (match) metrics.set(match[1], Number(match[2]));
  }
  return metrics;
}

/** Server-side time per command route, and the event loop's delay, between two scrapes. */
function describeMetrics(before: Metrics, after: Metrics): void {
  const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
  console.log('  Service side (/metrics, measured window):');
  for (const [route, status] of [['/v1/cases', '201'], ['/v1/cases/:caseId/approve', '200']]) {
    const labels = `{method="POST",route="${route}",status="${status}"}`;
    const n = delta(`http_request_duration_seconds_count${labels}`);
    const sum = delta(`http_request_duration_seconds_sum${labels}`);
    console.log(`    ${route}: ${int(n)} answered, mean ${ms((1000 * sum) / n)} from request received to response sent`);
  }
  const sumOf = (prefix: string) => [...after.keys()].filter((k) => k.startsWith(prefix)).reduce((total, k) => total + delta(k), 0);
  const commands = sumOf('http_request_duration_seconds_count{method="POST",route="/v1/cases"') + sumOf('http_request_duration_seconds_count{method="POST",route="/v1/cases/:caseId/approve"');
  const roles = [...after.keys()].flatMap((k) => {
    const role = /^aftersales_thread_cpu_seconds\{role="([^"]+)"\}$/.exec(k)?.[1];
    return role ? [`${role} ${((1000 * delta(k)) / commands).toFixed(3)} ms`] : [];
  });
  if (roles.length > 0 && commands > 0) console.log(`    CPU per command, by role thread (each role's event loop; helper threads not counted): ${roles.join(', ')}`);
  const appends = sumOf('event_store_append_duration_seconds_count');
  if (appends > 0) {
    const mean = (1000 * sumOf('event_store_append_duration_seconds_sum')) / appends;
    console.log(`    event-store appends: ${int(appends)}, mean ${ms(mean)} from append() to acknowledgement (group commit included)`);
  }
  const lag = (name: string) => ms(1000 * (after.get(`nodejs_eventloop_lag_${name}_seconds`) ?? Number.NaN));
  console.log(`    event loop delay: mean ${lag('mean')}, p99 ${lag('p99')}, max ${lag('max')}`);
  console.log(`    GC pauses: ${(sumOf('nodejs_gc_duration_seconds_sum') * 1000).toFixed(0)} ms in all`);
}

// ---------------------------------------------------------------------------
// Profile summary (BENCH_CPU_PROF=1)

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, one of ours, Node itself, or V8's pseudo-frames. */
function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /dist\/((?:libs|apps)\/[^/]+)/.exec(url);
  if (ours) return ours[1];
  if (url.startsWith('node:')) return url.replace(/^node:internal\/.*/, 'node:internal');
  return url;
}

const frameName = ({ functionName, url, lineNumber }: ProfileNode['callFrame']): string => {
  const where = url.replace(/^.*\/(node_modules|dist)\//, '$1/');
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
};

/** What a sample was doing, by the first rule that matches a frame of its stack. */
const ACTIVITIES: ReadonlyArray<[string, (frame: ProfileNode['callFrame']) => boolean]> = [
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['event store: append + COMMIT (group commit)', (f) => /sqlite-event-store\.js$/.test(f.url) && /^(flush|flushQueue|beginIfFree|applyAppend)$/.test(f.functionName)],
  ['WAL fsync bookkeeping (asking the fsync thread, answering callers)', (f) => /event-store\/src\/(wal-file-sync|fsync-thread)\.js$/.test(f.url)],
  ['event store: append, validating and serialising events', (f) => /event-store\/src\/validation\.js$/.test(f.url) || (/sqlite-event-store\.js$/.test(f.url) && f.functionName === 'append')],
  ['event store: readStream (SQLite query + JSON.parse of each row)', (f) => /sqlite-event-store\.js$/.test(f.url) && /^(readStream|toStoredEvents)$/.test(f.functionName)],
  ['domain: folding streams into state, deciding', (f) => /dist\/libs\/domain\//.test(f.url)],
  ['JWT verification (jose)', (f) => /node_modules\/jose\//.test(f.url) || /token-verifier\.js$/.test(f.url)],
  ['rate limiting (CallerRateLimiter)', (f) => /apps\/api\/src\/rate-limit\//.test(f.url)],
  ['callback signatures (HMAC, accepted-signature record)', (f) => /(apps\/api\/src\/integrations\/signature-check|integrations\/accepted-signatures)\.js$/.test(f.url)],
  ['idempotency records (gate, recorder, store)', (f) => /(apps\/api\/src\/idempotency|libs\/application\/src\/idempotency)\//.test(f.url)],
  ['parcel index (following the log)', (f) => /integrations\/parcel-index(\.projector)?\.js$/.test(f.url)],
  ['logging (pino, apps/api/src/logging)', (f) => /node_modules\/(pino(?:-[a-z-]+)?|sonic-boom|@pinojs\/[^/]+)\//.test(f.url) || /dist\/apps\/api\/src\/logging\//.test(f.url)],
  ['body validation (class-validator, class-transformer)', (f) => /node_modules\/class-(validator|transformer)\//.test(f.url)],
  ['metrics (prom-client)', (f) => /node_modules\/prom-client\//.test(f.url)],
  ['command handlers, gateway, controllers (rest of ours)', (f) => /dist\/(libs|apps)\//.test(f.url)],
  ['HTTP: Fastify, Nest pipeline, sockets, promises (the rest)', () => true],
];

/**
 * What the samples were doing (ACTIVITIES), self time by area and by function, and total (inclusive) time of our own
 * functions, over the samples taken inside `window` (the measured run) only.
 */
function summariseProfile(dir: string, window: [number, number]): void {
  // Names are CPU.<date>.<time>.<pid>.<thread id>.<sequence>.cpuprofile: the main
  // thread is thread 0 (worker threads, such as the store's checkpointer, write
  // their own), and of those the last by start time is this run's.
  const file = readdirSync(dir)
    .filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .sort()
    .at(-1);
  if (!file) {
    console.log('No CPU profile was written.');
    return;
  }
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const activities = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (at < window[0] || at > window[1]) return;
    total += us;
    const frame = byId.get(id)!.callFrame;
    self.set(frameName(frame), (self.get(frameName(frame)) ?? 0) + us);
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const stack: ProfileNode['callFrame'][] = [];
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) stack.push(byId.get(n)!.callFrame);
    const activity = ACTIVITIES.find(([, matches]) => stack.some(matches))![0];
    activities.set(activity, (activities.get(activity) ?? 0) + us);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n)!.callFrame;
      if (!/dist\/(libs|apps)\//.test(f.url)) continue;
      const name = frameName(f);
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      seen.add(name);
    }
  });
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`.padStart(6);
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`\nService CPU profile (${join(dir, file)}), measured window only: ${(total / 1e6).toFixed(1)} s of samples.`);
  console.log('What the samples were doing (inclusive; first matching rule wins):');
  for (const [activity, us] of top(activities, ACTIVITIES.length)) console.log(`  ${pct(us)}  ${activity}`);
  console.log('Self time by area:');
  for (const [area, us] of top(areas, 20)) console.log(`  ${pct(us)}  ${area}`);
  console.log('Top functions by self time:');
  for (const [fn, us] of top(self, 30)) console.log(`  ${pct(us)}  ${fn}`);
  console.log('Our functions by total time (self and callees):');
  for (const [fn, us] of top(inclusive, 30)) console.log(`  ${pct(us)}  ${fn}`);
}

// ---------------------------------------------------------------------------
// Stall probe summary (BENCH_PROBE=1)

function readProbe(file: string): ProbeRecord[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ProbeRecord);
  } catch {
    return [];
  }
}

/** What the probe saw, each record placed in a measured run (or between runs), in time order. */
function summariseProbe(file: string, runs: ReadonlyArray<{ keys: KeyMode; run: Run }>, serviceStarted: number): void {
  const records = readProbe(file);
  console.log(`\nStall probe (${file}): ${records.length} records, stalls ≥ 200 ms, SQLite calls and GC pauses ≥ ${process.env.BENCH_PROBE_SLOW_MS ?? 50} ms.`);
  const where = (at: number): string => {
    const inRun = runs.find(({ run }) => at >= run.wallClock[0] && at <= run.wallClock[1]);
    return inRun ? `${inRun.keys} +${((at - inRun.run.wallClock[0]) / 1000).toFixed(1)} s` : 'outside the measured runs';
  };
  for (const record of records) {
    const when = `service +${((record.at - serviceStarted) / 1000).toFixed(1)} s (${where(record.at)}), thread ${record.thread}`;
    if (record.kind === 'gap') console.log(`  ${when}: event loop stalled ${ms(record.ms)}`);
    else if (record.kind === 'gc') console.log(`  ${when}: GC pause ${ms(record.ms)} (kind ${record.gcKind})`);
    else console.log(`  ${when}: ${ms(record.ms)} in ${record.connection}: ${record.sql}\n      ${record.stack.slice(0, 4).join('\n      ')}`);
  }
  for (const { keys, run } of runs) {
    const stalls = records.filter((r) => r.kind === 'gap' && r.thread === 0 && r.at >= run.wallClock[0] && r.at <= run.wallClock[1]);
    const longest = stalls.reduce((max, r) => Math.max(max, r.ms), 0);
    console.log(`  Measured run ${keys}: ${stalls.length} stalls of the service's event loop, longest ${ms(longest)}.`);
  }
}

// ---------------------------------------------------------------------------

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');

function describe(name: string, run: Run): void {
  const parts = (Object.keys(run.statuses) as Kind[])
    .filter((k) => run.statuses[k].size > 0)
    .map((k) => `${k} ${[...run.statuses[k]].map(([s, c]) => `${s}×${int(c)}`).join(' ')}`);
  console.log(`  ${name}: ${run.seconds.toFixed(1)} s, ${parts.join('; ')}; transport errors ${run.transportErrors}, timeouts ${run.timeouts}`);
  const share = (cpu: number) => `${((100 * cpu) / run.seconds).toFixed(0)}% of a core`;
  console.log(`    CPU in the window: server process ${share(run.cpu.server)}, load generator ${share(run.cpu.driver)}`);
  for (const sample of run.errorSamples) console.log(`    ${sample}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'aftersales-bench-commands-'));
  let service: ChildServer | undefined;
  let bare: ChildServer | undefined;
  try {
    console.log(`Machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
    console.log(`Load average at start: ${load()}`);

    // Baseline first, on its own: the bare endpoint with the same pipe.
    bare = await startScript(join('bench', 'support', 'bare-app.js'));
    await waitForOutput(bare, /listening/);
    console.log(`Bare endpoint: ${WARM_UP_SECONDS} s warm-up, then ${SECONDS} s at ${CONNECTIONS} connections...`);
    await driveBare(bare, WARM_UP_SECONDS);
    const bareRun = await driveBare(bare, SECONDS);
    describe('bare', bareRun);
    await bare.stop();
    bare = undefined;

    const tokens: Tokens = {
      integration: await token({ sub: 'order-system', role: 'integration' }),
      merchant: await token({ sub: `${MERCHANT}-staff`, role: 'merchant', merchantId: MERCHANT }),
      buyers: await Promise.all(Array.from({ length: BUYERS }, (_, i) => token({ sub: `b-${i}`, role: 'buyer' }))),
    };
    const profileDir = KEEP_PROFILE_IN ?? join(dir, 'profile');
    const probeLog = join(dir, 'stall-probe.jsonl');
    const serviceStarted = Date.now();
    service = await (ROLES === 'api' ? (env: NodeJS.ProcessEnv, flags: string[]) => startRole('api', env, flags) : startService)(
      {
        SQLITE_PATH: join(dir, 'aftersales.db'),
        LOG_LEVEL: 'warn',
        // The largest the configuration accepts: one merchant token sends half the commands.
        RATE_LIMIT_PER_MINUTE: '10000000',
        ...(PROBE ? { BENCH_PROBE_LOG: probeLog, BENCH_PROBE_SLOW_MS: process.env.BENCH_PROBE_SLOW_MS ?? '50' } : {}),
      },
      [
        ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
        ...(PROBE ? ['-r', join(__dirname, 'support', 'stall-probe.js')] : []),
      ],
    );
    await waitForReady(service, '/health');
    console.log(`Service up (${ROLES === 'api' ? 'the API role alone, no worker or projector' : 'every role, as npm start runs them'}; SQLite in ${dir}, its own redis-server${PROFILE ? ', under --cpu-prof' : ''}).`);

    const pool = new SlotPool();
    const warmOrders = Math.ceil(WARM_UP_CASES / LINES_PER_ORDER) + 1;
    const setupRate = await registerOrders(service.baseUrl, tokens, 0, warmOrders);
    pool.addOrders(0, warmOrders);
    console.log(`Registered and shipped ${int(warmOrders)} orders of ${LINES_PER_ORDER} lines (${int(setupRate)} orders/s, two commands each).`);
    await sanityCheck(service.baseUrl, tokens, pool);

    const keysInWarmUp: KeyMode = KEY_MODES.at(-1)!;
    console.log(`Warm-up: ${WARM_UP_SECONDS} s of open → approve at ${CONNECTIONS} connections, ${keysInWarmUp}...`);
    const warm = await driveCommands(service, tokens, pool, WARM_UP_SECONDS, keysInWarmUp);
    describe('warm-up', warm);
    const warmCasesPerSecond = count(warm, 'open', true) / warm.seconds;

    const runs: Array<{ keys: KeyMode; run: Run }> = [];
    let nextFreeOrder = pool.nextOrder;
    for (const keys of KEY_MODES) {
      // A fresh pool for each measured run, on orders no case has touched yet,
      // with free lines for twice the warm-up's pace, and at least the pace the
      // warm-up allows for: a run without keys may go faster than the warm-up did.
      const casesPerSecond = Math.max(2 * warmCasesPerSecond, WARM_UP_CASES / WARM_UP_SECONDS);
      const needed = Math.ceil(casesPerSecond * SECONDS) + CONNECTIONS * 2;
      const moreOrders = Math.ceil(needed / LINES_PER_ORDER);
      const measuredPool = new SlotPool();
      const first = nextFreeOrder;
      const moreRate = await registerOrders(service.baseUrl, tokens, first, moreOrders);
      measuredPool.addOrders(first, moreOrders);
      nextFreeOrder = first + moreOrders;
      console.log(`Registered and shipped ${int(moreOrders)} more orders (${int(moreRate)} orders/s) for up to ${int(measuredPool.left)} cases.`);

      console.log(`Load average before the measured run: ${load()}`);
      console.log(`Measured, ${keys}: ${SECONDS} s of open → approve at ${CONNECTIONS} connections...`);
      // Scraping resets prom-client's event-loop histogram, so the second scrape covers the run alone.
      const metricsBefore = await scrape(service.baseUrl);
      const run = await driveCommands(service, tokens, measuredPool, SECONDS, keys);
      const metricsAfter = await scrape(service.baseUrl);
      describe(`commands, ${keys}`, run);
      describeMetrics(metricsBefore, metricsAfter);
      console.log(`Load average after: ${load()}`);
      if (run.exhausted) throw new Error(`ran out of free order lines during the measured run ${keys}; the figures are not valid`);
      runs.push({ keys, run });
    }

    const exitCode = await service.stop();
    service = undefined;
    if (exitCode !== 0) console.log(`Service exited with ${exitCode}`);
    // The profile covers the last measured run (with keys, unless only the other was asked for).
    if (PROFILE) summariseProfile(profileDir, runs.at(-1)!.run.window);
    if (PROBE) summariseProbe(probeLog, runs, serviceStarted);

    const bareFailures = count(bareRun, 'all', false) + bareRun.transportErrors + bareRun.timeouts;
    const failures = runs.reduce((sum, { run }) => sum + count(run, 'all', false) + run.transportErrors + run.timeouts, 0);
    const rate = (r: Run, kind: Kind | 'all') => count(r, kind, true) / r.seconds;
    const bareRate = rate(bareRun, 'all');
    const p = (r: Run, kind: Kind | 'all', q: number) => percentile(r.latencies[kind], q);

    const rows = [
      ['measure', 'commands/s', 'p50', 'p99', 'non-2xx / errors'],
      ['---', '---:', '---:', '---:', '---:'],
    ];
    for (const { keys, run } of runs) {
      rows.push(
        [`open + approve (all commands), ${keys}`, int(rate(run, 'all')), ms(p(run, 'all', 50)), ms(p(run, 'all', 99)), `${count(run, 'all', false)} / ${run.transportErrors + run.timeouts}`],
        [`open (\`POST /v1/cases\`), ${keys}`, int(rate(run, 'open')), ms(p(run, 'open', 50)), ms(p(run, 'open', 99)), `${count(run, 'open', false)}`],
        [`approve (\`POST /v1/cases/:id/approve\`), ${keys}`, int(rate(run, 'approve')), ms(p(run, 'approve', 50)), ms(p(run, 'approve', 99)), `${count(run, 'approve', false)}`],
      );
    }
    rows.push(['bare Nest endpoint, same ValidationPipe', int(bareRate), ms(p(bareRun, 'all', 50)), ms(p(bareRun, 'all', 99)), `${count(bareRun, 'all', false)} / ${bareRun.transportErrors + bareRun.timeouts}`]);
    const last = runs.at(-1)!;
    rows.push([
      `command path ${last.keys} / bare endpoint`,
      `${(rate(last.run, 'all') / bareRate).toFixed(3)}×`,
      `${(p(last.run, 'all', 50) / p(bareRun, 'all', 50)).toFixed(1)}×`,
      `${(p(last.run, 'all', 99) / p(bareRun, 'all', 99)).toFixed(1)}×`,
      '',
    ]);
    const without = runs.find((r) => r.keys === 'without keys');
    const withKeys = runs.find((r) => r.keys === 'with keys');
    if (without && withKeys) {
      rows.push([
        'with keys / without keys',
        `${(rate(withKeys.run, 'all') / rate(without.run, 'all')).toFixed(3)}×`,
        `${(p(withKeys.run, 'all', 50) / p(without.run, 'all', 50)).toFixed(2)}×`,
        `${(p(withKeys.run, 'all', 99) / p(without.run, 'all', 99)).toFixed(2)}×`,
        '',
      ]);
    }
    console.log('');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    console.log('');
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    // The target is for commands as clients send them: with keys, when that run was made.
    const judged = withKeys ?? last;
    const judgedRate = rate(judged.run, 'all');
    const figures = `≥ ${int(TARGET.commandsPerSecond)} commands/s: ${verdict(judgedRate >= TARGET.commandsPerSecond)}; p99 ≤ ${TARGET.p99Ms} ms: ${verdict(p(judged.run, 'all', 99) <= TARGET.p99Ms)}`;
    // The API role alone is a capacity figure beside the target, never the verdict on it (see BENCH_ROLES above).
    if (ROLES === 'api') console.log(`The API role alone (${judged.keys}), not the service: ${figures.replace(/met|MISSED/g, (v) => (v === 'met' ? 'would be met' : 'would be missed'))}.`);
    else console.log(`Target (${judged.keys}) ${figures}.`);
    console.log(`Valid run (0 non-2xx, 0 errors on both sides): ${failures === 0 && bareFailures === 0 ? 'yes' : 'NO'}.`);
    console.log(`Whole run: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
    if (failures > 0 || bareFailures > 0) process.exitCode = 1;
  } finally {
    await bare?.stop();
    if (service) {
      await service.stop();
      console.log(service.output().slice(-2000));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// scripts/bench.js awaits this and fails the run loudly if it never settles.
export const finished = main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
