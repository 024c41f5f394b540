/*
 * Deadline benchmark (issue 10, "Measured"): 20,000 cases whose
 * merchant-response deadline falls due at the same moment, the service
 * started as `npm start` starts it (scripts/start.js: API, worker and
 * projector in one process) on a SQLite file of its own and a redis-server
 * this benchmark starts (no persistence, so INFO and FLUSHALL are ours).
 * `npm run bench:deadlines`; results go to bench/RESULTS.md.
 *
 * Two runs, each on fresh data:
 *  - timing: how long until every case is auto-approved (MerchantAgreed
 *    appended), throughput, lateness after the due time, Redis memory per
 *    pending deadline; then, in the same Redis, the same number of no-op
 *    BullMQ jobs due at one moment (the queue's own ceiling);
 *  - flush: once the reactor has enqueued every deadline, FLUSHALL; the
 *    reconciler (WORKER_RECONCILE_INTERVAL_MS=5000) must re-create them and
 *    every deadline fire exactly once.
 *
 * The timing run is made for two kinds of case (bench/deadlines/seed.ts):
 * `return`, whose approval only starts the next deadline, and `refund_only`,
 * whose approval also pays through the sandbox payment centre and its signed
 * callback; BENCH_CASE_KIND=return|refund_only makes one (the flush run uses
 * the first). BENCH_DEADLINES_RUN=timing|flush runs one of the two; BENCH_CASES changes
 * the count (default 20,000); BENCH_LEAD_SECONDS the time from the start of
 * seeding to the due moment (default: enough for seeding, start and intake);
 * BENCH_DRAIN_TIMEOUT_SECONDS (default 900) is how long after the due time the
 * last approval may come before the run fails; BENCH_CPU_PROF=1 runs the service of the timing run under --cpu-prof and
 * prints where its time went between the due time and the last approval
 * (BENCH_CPU_PROF_DIR=<folder> keeps the .cpuprofile); BENCH_PROBE=1 preloads
 * bench/support/stall-probe.ts into it and prints its event-loop stalls, slow
 * SQLite calls and GC pauses over the same window. Every timing run also
 * prints the CPU its busiest threads used per deadline over the drain (from
 * /proc): on a shared machine a steadier figure than the rate.
 *
 * BENCH_DEADLINES_SPREAD_SECONDS=<s> spreads the due times evenly over that
 * many seconds instead of one moment (20,000 over 10 s: 2,000 falling due
 * each second), and lateness is each case's against its own due time: what
 * a steady stream of deadlines sees, beside the burst the target is set for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { startService, waitForReady, type ChildServer } from './support/service';
import { seedCases, type SeedKind } from './deadlines/seed';
import { AgreementWatch, percentile } from './deadlines/observe';
import { bytesOfOneJob, delayedJobs, redisCpuSeconds, startRedis, usedMemory, type BenchRedis } from './deadlines/redis';
import { runNoopQueue, DEADLINE_CONCURRENCY, type NoopRun } from './deadlines/noop-queue';
import { summariseProfile } from './deadlines/profile';
import { summariseProbe } from './deadlines/probe-summary';
import { repositoryRoot } from './support/service';
import { cpuModel, processCpuSeconds, roleCpuSeconds, rolesPer } from './support/machine';
import { busiestThreads, threadCpuSeconds } from './deadlines/threads';

const CASES = Number(process.env.BENCH_CASES ?? 20_000);
const KINDS: SeedKind[] = process.env.BENCH_CASE_KIND ? [process.env.BENCH_CASE_KIND as SeedKind] : ['return', 'refund_only'];
const RUNS = process.env.BENCH_DEADLINES_RUN ? [process.env.BENCH_DEADLINES_RUN] : ['timing', 'flush'];
const TARGET = { approvalsPerSecond: 2_000, latenessP99Ms: 3_000, bytesPerDeadline: 1024 };
const FLUSH_RECONCILE_MS = 5_000;
const PROFILE = process.env.BENCH_CPU_PROF === '1';
const KEEP_PROFILE_IN = process.env.BENCH_CPU_PROF_DIR;
const PROBE = process.env.BENCH_PROBE === '1';
/** How long after the due moment the last approval may come before the run is called failed. */
const DRAIN_TIMEOUT_MS = Number(process.env.BENCH_DRAIN_TIMEOUT_SECONDS ?? 900) * 1000;
const INTAKE_TIMEOUT_MS = 300_000;
const SPREAD_MS = Number(process.env.BENCH_DEADLINES_SPREAD_SECONDS ?? 0) * 1000;

/** Seeding (~3 ms a case on this machine), the service's start and the reactor's intake, with room. */
const leadMs = (): number => (process.env.BENCH_LEAD_SECONDS ? Number(process.env.BENCH_LEAD_SECONDS) * 1000 : 30_000 + CASES * 5);

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Environment {
  dir: string;
  redis: BenchRedis;
  service: ChildServer;
  watch: AgreementWatch;
  /** The first due time (every case's, unless spread). */
  dueAt: number;
  dueOf: Map<string, number>;
  caseIds: string[];
  seedSeconds: number;
  memoryBefore: number;
}

/** Fresh folder and Redis, the cases seeded, the service started on them. */
async function prepare(label: string, kind: SeedKind, serviceEnv: NodeJS.ProcessEnv, nodeOptions: string[] = []): Promise<Environment> {
  const dir = mkdtempSync(join(tmpdir(), `aftersales-bench-deadlines-${label}-`));
  const sqlitePath = join(dir, 'aftersales.db');
  const redis = await startRedis(join(dir, 'redis'));
  let service: ChildServer | undefined;
  try {
    const memoryBefore = await usedMemory(redis.client);
    const dueAt = new Date(Math.ceil((Date.now() + leadMs()) / 1000) * 1000);
    const when = SPREAD_MS > 0 ? `from ${dueAt.toISOString()} over ${secs(SPREAD_MS)}` : `at ${dueAt.toISOString()}`;
    console.log(`[${label}] seeding ${int(CASES)} orders and ${kind} cases, merchantResponse due ${when} (in ${secs(dueAt.getTime() - Date.now())})`);
    const seeded = await seedCases(sqlitePath, CASES, dueAt, kind, SPREAD_MS);
    console.log(`[${label}] seeded in ${seeded.seconds.toFixed(1)} s`);
    service = await startService({ SQLITE_PATH: sqlitePath, REDIS_URL: redis.url, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000', ...serviceEnv }, nodeOptions);
    await waitForReady(service, '/health', 120_000);
    console.log(`[${label}] service up on ${service.baseUrl} (${Object.entries(serviceEnv).map(([k, v]) => `${k}=${v}`).join(' ') || 'default settings'})`);
    return { dir, redis, service, watch: new AgreementWatch(sqlitePath), dueAt: dueAt.getTime(), dueOf: seeded.dueOf, caseIds: seeded.caseIds, seedSeconds: seeded.seconds, memoryBefore };
  } catch (error) {
    await service?.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function teardown(env: Environment | undefined): Promise<void> {
  if (!env) return;
  env.watch.close();
  await env.service.stop();
  await env.redis.stop();
  rmSync(env.dir, { recursive: true, force: true });
}

/** Waits until the reactor has every deadline in its table and in BullMQ's delayed set; returns when that was. */
async function waitForIntake(env: Environment, label: string): Promise<number> {
  const until = Date.now() + INTAKE_TIMEOUT_MS;
  let delayed = 0;
  let pending = 0;
  for (;;) {
    pending = env.watch.pendingDeadlines();
    delayed = await delayedJobs(env.redis.client, 'deadlines');
    if (pending === CASES && delayed === CASES) return Date.now();
    if (env.watch.poll() > 0) throw new Error(`[${label}] ${env.watch.all.length} cases approved before the reactor had taken all in (pending ${pending}, delayed ${delayed}), the first ${secs(env.watch.all[0].occurredAt - env.dueAt)} after due, at ${new Date().toISOString()}`);
    if (Date.now() > until) throw new Error(`[${label}] intake incomplete after ${INTAKE_TIMEOUT_MS / 1000} s: ${pending} pending, ${delayed} delayed of ${CASES}\n${env.service.output()}`);
    if (env.service.process.exitCode !== null) throw new Error(`[${label}] service exited:\n${env.service.output()}`);
    await sleep(100);
  }
}

/** Waits for every case's MerchantAgreed; returns the wall time at which the last was seen. */
async function waitForAgreements(env: Environment, label: string): Promise<void> {
  const until = env.dueAt + DRAIN_TIMEOUT_MS;
  let lastReport = Date.now();
  while (env.watch.poll() < CASES) {
    if (Date.now() > until) throw new Error(`[${label}] only ${env.watch.all.length} of ${CASES} cases approved ${DRAIN_TIMEOUT_MS / 1000} s after the due time\n${env.service.output()}`);
    if (env.service.process.exitCode !== null) throw new Error(`[${label}] service exited:\n${env.service.output()}`);
    if (Date.now() - lastReport > 5000 && Date.now() > env.dueAt) {
      console.log(`[${label}]   ${int(env.watch.all.length)} approved ${secs(Date.now() - env.dueAt)} after due`);
      lastReport = Date.now();
    }
    await sleep(50);
  }
}

/** Every seeded case approved once, by the clock, as the system. */
function checkAgreements(env: Environment, label: string): void {
  const seeded = new Set(env.caseIds);
  const problems: string[] = [];
  const duplicates = env.watch.duplicates();
  if (duplicates.length > 0) problems.push(`${duplicates.length} cases agreed more than once (e.g. ${duplicates[0]})`);
  const missing = env.caseIds.filter((id) => !env.watch.byCase.has(id));
  if (missing.length > 0) problems.push(`${missing.length} cases never agreed (e.g. ${missing[0]})`);
  const foreign = [...env.watch.byCase.keys()].filter((id) => !seeded.has(id));
  if (foreign.length > 0) problems.push(`${foreign.length} agreements on cases not seeded`);
  const notAuto = env.watch.all.filter((a) => !a.auto || a.trigger !== 'merchantResponse' || a.actorRole !== 'system');
  if (notAuto.length > 0) problems.push(`${notAuto.length} agreements not auto/merchantResponse/system (e.g. ${JSON.stringify(notAuto[0])})`);
  const early = env.watch.all.filter((a) => a.occurredAt < (env.dueOf.get(a.caseId) ?? env.dueAt));
  if (early.length > 0) problems.push(`${early.length} agreements before the due time`);
  if (problems.length > 0) throw new Error(`[${label}] ${problems.join('; ')}`);
}

/** The deadline each approval of a seeded case starts (return cases: the buyer's ship-back, days away). */
const NEXT_DEADLINE = 'buyerShipBack';

/**
 * Once every case is approved: waits until the reactor has recorded each
 * case's next deadline, gives its adds a second, and reads what Redis holds
 * for them (before the no-op queue adds jobs of its own).
 */
async function afterTheDrain(env: Environment, label: string): Promise<{ pending: number; delayed: number; memory: number }> {
  const until = Date.now() + INTAKE_TIMEOUT_MS;
  while (env.watch.pendingDeadlinesNamed(NEXT_DEADLINE) < CASES) {
    if (Date.now() > until) throw new Error(`[${label}] only ${env.watch.pendingDeadlinesNamed(NEXT_DEADLINE)} ${NEXT_DEADLINE} deadlines recorded after the drain`);
    await sleep(100);
  }
  await sleep(1000);
  return { pending: env.watch.pendingDeadlinesNamed(NEXT_DEADLINE), delayed: await delayedJobs(env.redis.client, 'deadlines'), memory: await usedMemory(env.redis.client) };
}

interface Lateness {
  p50: number;
  p99: number;
  max: number;
  first: number;
  last: number;
}

function latenessOf(values: number[]): Lateness {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1], first: sorted[0], last: sorted[sorted.length - 1] };
}

function table(rows: string[][]): void {
  console.log(`| ${rows[0].join(' | ')} |`);
  console.log(`| ${rows[0].map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(`| ${row.join(' | ')} |`);
}

async function timingRun(kind: SeedKind): Promise<void> {
  let env: Environment | undefined;
  const profileDir = KEEP_PROFILE_IN ?? join(tmpdir(), `aftersales-bench-deadlines-profile-${process.pid}`);
  try {
    const probeLog = join(tmpdir(), `aftersales-bench-deadlines-probe-${process.pid}.jsonl`);
    const nodeOptions = [
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ...(PROBE ? ['-r', join(repositoryRoot, 'dist', 'bench', 'support', 'stall-probe.js')] : []),
    ];
    env = await prepare('timing', kind, PROBE ? { BENCH_PROBE_LOG: probeLog } : {}, nodeOptions);
    const intakeAt = await waitForIntake(env, 'timing');
    const memoryAfter = await usedMemory(env.redis.client);
    const oneJob = await bytesOfOneJob(env.redis.client, 'deadlines');
    console.log(`[timing] reactor took in ${int(CASES)} deadlines ${secs(env.dueAt - intakeAt)} before due`);
    // CPU from the due moment to the last approval.
    await sleep(Math.max(0, env.dueAt - Date.now()));
    // Not before the wait: the worker's passes over the pending work run meanwhile.
    const rolesBefore = await roleCpuSeconds(env.service.baseUrl);
    const windowStart = { wall: Date.now(), mono: process.hrtime.bigint(), service: processCpuSeconds(env.service.process.pid), threads: threadCpuSeconds(env.service.process.pid), redis: await redisCpuSeconds(env.redis.client) };
    await waitForAgreements(env, 'timing');
    const rolesAfter = await roleCpuSeconds(env.service.baseUrl);
    const windowEnd = { wall: Date.now(), service: processCpuSeconds(env.service.process.pid), threads: threadCpuSeconds(env.service.process.pid), redis: await redisCpuSeconds(env.redis.client) };
    checkAgreements(env, 'timing');
    // Only a return case's approval starts a deadline of its own (a refund_only case is paid and closed).
    const next = kind === 'return' ? await afterTheDrain(env, 'timing') : undefined;
    const dueOf = env.dueOf;
    const service = latenessOf(env.watch.all.map((a) => a.occurredAt - (dueOf.get(a.caseId) ?? env!.dueAt)));
    // From the first due time to the last approval: with a spread, the last case's own lateness is not the whole drain.
    const serviceSeconds = env.watch.all.reduce((latest, a) => Math.max(latest, a.occurredAt - env!.dueAt), 0) / 1000;
    const serviceRate = CASES / serviceSeconds;
    const bytesPerDeadline = (memoryAfter - env.memoryBefore) / CASES;
    const serviceCpu = windowEnd.service - windowStart.service;
    const redisCpu = windowEnd.redis - windowStart.redis;
    const window = (windowEnd.wall - windowStart.wall) / 1000;

    console.log('[timing] no-op BullMQ jobs in the same Redis (service idle)…');
    const noop: NoopRun = await runNoopQueue(env.redis.url, env.redis.client, CASES, 3000, DRAIN_TIMEOUT_MS);
    const ceiling = latenessOf(noop.lateness);
    const noopRate = CASES / (ceiling.last / 1000);

    console.log('');
    const dueWhen = SPREAD_MS > 0 ? `falls due at a steady ${int(CASES / (SPREAD_MS / 1000))}/s over ${secs(SPREAD_MS)} (lateness against each case's own due time; the targets are for one moment)` : 'is due at one moment';
    console.log(`Timing run: ${int(CASES)} ${kind} cases whose merchantResponse ${dueWhen}; seeding ${env.seedSeconds.toFixed(1)} s; intake done ${secs(env.dueAt - intakeAt)} before due.`);
    table([
      ['measure', 'service (deadline → MerchantAgreed appended)', `no-op BullMQ jobs, due at one moment (concurrency ${DEADLINE_CONCURRENCY})`, 'target'],
      ['all done after the (first) due time', secs(serviceSeconds * 1000), secs(ceiling.last), ''],
      [
        'throughput (jobs / time from due to last)',
        `${int(serviceRate)}/s`,
        `${int(noopRate)}/s`,
        // Spread, the rate is the one the deadlines fall due at (or less): it says nothing about the target.
        SPREAD_MS > 0 ? 'bound by the due rate' : `≥ ${int(TARGET.approvalsPerSecond)}/s: ${serviceRate >= TARGET.approvalsPerSecond ? 'met' : 'MISSED'}`,
      ],
      ['lateness p50', secs(service.p50), secs(ceiling.p50), ''],
      ['lateness p99', secs(service.p99), secs(ceiling.p99), `≤ 3 s: ${service.p99 <= TARGET.latenessP99Ms ? 'met' : 'MISSED'}`],
      ['lateness first / max', `${secs(service.first)} / ${secs(service.max)}`, `${secs(ceiling.first)} / ${secs(ceiling.max)}`, ''],
      [
        'Redis memory per pending job (used_memory after − before ÷ count)',
        `${int(bytesPerDeadline)} B`,
        `${int(noop.bytesPerJob)} B`,
        `≤ 1 KB: ${bytesPerDeadline <= TARGET.bytesPerDeadline ? 'met' : 'MISSED'}`,
      ],
    ]);
    if (next)
      console.log(
        `After the drain: ${int(next.pending)} ${NEXT_DEADLINE} deadlines pending (days away), ${int(next.delayed)} delayed deadline jobs in Redis; ` +
          `used_memory ${int((next.memory - env.memoryBefore) / next.pending)} B per pending deadline (with the finished jobs BullMQ keeps for an hour).`,
      );
    if (oneJob) console.log(`MEMORY USAGE of one deadline job: hash ${oneJob.hash} B + ${oneJob.delayedSetPerJob.toFixed(0)} B of the delayed set.`);
    console.log(`CPU from due to last approval (${window.toFixed(1)} s): service ${((100 * serviceCpu) / window).toFixed(0)}% of a core, redis-server ${((100 * redisCpu) / window).toFixed(0)}%.`);
    const threads = busiestThreads(windowStart.threads, windowEnd.threads, 4);
    if (threads.length > 0)
      console.log(
        `CPU per deadline, busiest threads first (the worker thread leads): ${threads.map((t) => `${t.name}/${t.tid} ${((1000 * t.seconds) / CASES).toFixed(3)} ms`).join(', ')}; service ${((1000 * serviceCpu) / CASES).toFixed(3)} ms.`,
      );
    if (rolesAfter.size > 0) console.log(`CPU per deadline, by role thread (each role's event loop; helper threads not counted): ${rolesPer(rolesBefore, rolesAfter, CASES)}.`);
    console.log(`Every case agreed exactly once, auto: true, trigger merchantResponse, by the system; none before its due time. Load average now: ${load()}.`);
    if (PROBE) {
      summariseProbe(probeLog, [windowStart.wall, windowEnd.wall]);
      rmSync(probeLog, { force: true });
    }
    if (PROFILE) {
      await env.service.stop();
      const startUs = Number(windowStart.mono / 1000n); // the profile's clock is the monotonic one, in µs
      summariseProfile(profileDir, [startUs - 1_000_000, startUs + serviceSeconds * 1_000_000 + 1_000_000]);
    }
  } finally {
    await teardown(env);
    if (PROFILE && !KEEP_PROFILE_IN) rmSync(profileDir, { recursive: true, force: true });
  }
}

async function flushRun(kind: SeedKind): Promise<void> {
  let env: Environment | undefined;
  try {
    env = await prepare('flush', kind, { WORKER_RECONCILE_INTERVAL_MS: String(FLUSH_RECONCILE_MS) });
    const intakeAt = await waitForIntake(env, 'flush');
    // Flushed 2 s before the due moment: the jobs come back due or overdue, so every
    // deadline fires through the reconciler, at the moment that costs most.
    const flushAt = Math.max(Date.now(), env.dueAt - 2000);
    await sleep(flushAt - Date.now());
    await env.redis.client.flushall();
    const flushedAt = Date.now();
    console.log(`[flush] FLUSHALL ${secs(env.dueAt - flushedAt)} before due (intake was done ${secs(env.dueAt - intakeAt)} before due)`);
    // When the reconciler has put them all back (or some of them have run already; new
    // deadlines of approved cases count too, so the reconciler's own log line below is the exact figure).
    let recreatedAt: number | undefined;
    while (recreatedAt === undefined) {
      const back = (await delayedJobs(env.redis.client, 'deadlines')) + (await env.redis.client.llen('bull:deadlines:wait')) + (await env.redis.client.zcard('bull:deadlines:completed')) + (await env.redis.client.llen('bull:deadlines:active'));
      if (back >= CASES) recreatedAt = Date.now();
      else if (Date.now() - flushedAt > 4 * FLUSH_RECONCILE_MS) throw new Error(`[flush] only ${back} of ${CASES} jobs back ${secs(Date.now() - flushedAt)} after FLUSHALL`);
      else await sleep(50);
    }
    await waitForAgreements(env, 'flush');
    const allAt = Date.now();
    // Two more reconciliation periods: nothing fires a second time.
    await sleep(2 * FLUSH_RECONCILE_MS + 1000);
    env.watch.poll();
    checkAgreements(env, 'flush');
    const dueOf = env.dueOf;
    const lateness = latenessOf(env.watch.all.map((a) => a.occurredAt - (dueOf.get(a.caseId) ?? env!.dueAt)));
    const lastAfterFlush = Math.max(...env.watch.all.map((a) => a.occurredAt)) - flushedAt;
    console.log('');
    console.log(`FLUSHALL run (WORKER_RECONCILE_INTERVAL_MS=${FLUSH_RECONCILE_MS}): ${int(CASES)} ${kind} cases' deadlines pending, Redis flushed ${secs(env.dueAt - flushedAt)} before they were due.`);
    table([
      ['measure', 'value'],
      ['every job back in Redis after FLUSHALL', secs(recreatedAt - flushedAt)],
      ['last MerchantAgreed after FLUSHALL', secs(lastAfterFlush)],
      ['MerchantAgreed events / distinct cases', `${int(env.watch.all.length)} / ${int(env.watch.byCase.size)} (seen ${secs(allAt - env.dueAt)} after due, recounted ${secs(Date.now() - allAt)} later)`],
      ['lateness p50 / p99 / max', `${secs(lateness.p50)} / ${secs(lateness.p99)} / ${secs(lateness.max)}`],
    ]);
    const passes = reconcilerPasses(env.service.output()).filter((p) => p.at >= flushedAt);
    for (const pass of passes) console.log(`The reconciler logged re-creating ${int(pass.recreated)} of ${int(pass.pending)} pending jobs, ${secs(pass.at - flushedAt)} after FLUSHALL.`);
    const withinPeriod = recreatedAt - flushedAt <= FLUSH_RECONCILE_MS + 1000;
    console.log(
      `Every job back within one reconciliation period (${FLUSH_RECONCILE_MS / 1000} s, +1 s of polling): ${withinPeriod ? 'met' : 'MISSED'}. ` +
        'Every deadline fired exactly once, by the clock, none before due: yes.',
    );
  } finally {
    await teardown(env);
  }
}

/** The reconciler's "re-created N of M pending jobs" warnings in the service's (pino JSON) log, with their times. */
function reconcilerPasses(output: string): { at: number; recreated: number; pending: number }[] {
  const passes: { at: number; recreated: number; pending: number }[] = [];
  for (const line of output.split('\n')) {
    const match = /re-created (\d+) of (\d+) pending jobs/.exec(line);
    if (!match) continue;
    try {
      const at = (JSON.parse(line) as { time?: number }).time;
      if (typeof at === 'number') passes.push({ at, recreated: Number(match[1]), pending: Number(match[2]) });
    } catch {
      // not a JSON log line
    }
  }
  return passes;
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`Machine: ${availableParallelism()} CPUs (nproc), ${cpuModel()}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}, ${new Date().toISOString()}`);
  console.log(`Load average at start: ${load()}`);
  for (const run of RUNS) {
    if (run === 'timing') for (const kind of KINDS) await timingRun(kind);
    else if (run === 'flush') await flushRun(KINDS[0]);
    else throw new Error(`BENCH_DEADLINES_RUN must be timing or flush, not ${run}`);
    console.log('');
  }
  console.log(`Whole run: ${((Date.now() - started) / 1000).toFixed(0)} s. Load average at the end: ${load()}.`);
}

export const finished: Promise<void> = main();
