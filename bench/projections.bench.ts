/*
 * Projection rebuild throughput: `npm run bench:projections` (BENCH_EVENTS,
 * default 1,000,000; DATABASE_URL for a PostgreSQL run beside SQLite). Seeds
 * a SQLite event store with case histories of the usual shape, then in one
 * run: a plain scan of the log (readAll, JSON parsed), and each projection
 * rebuilt from it into SQLite (and PostgreSQL). Not a timed test; figures go
 * to bench/RESULTS.md by hand.
 *
 * BENCH_PROJECTION=<name> (e.g. case_analytics) rebuilds that projection
 * only and skips the all-in-one pass: a shorter run to profile one
 * projection with `node --cpu-prof`. Each rebuild also prints the CPU time
 * the process spent per event, which a busy machine changes less than the rate.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type NewEvent } from '@aftersales/event-store';
import { migrateReadStore, openReadStore, PROJECTIONS, rebuildProjection, rebuildProjections, type ReadStore } from '@aftersales/read-models';
import { withPostgres } from './support/postgres';

const TOTAL_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const TARGETS = { sqlite: 50_000, postgres: 20_000 };
const ONLY = process.env.BENCH_PROJECTION;

/** One case's events as the command path writes them: request, deadline, approval, refund, settlement, completion, rating, and a few urges. */
function caseEvents(n: number): NewEvent[] {
  const at = new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
  const meta = (role: string, id: string) => ({ actor: { role, id }, channel: 'app', correlationId: randomUUID(), causationId: randomUUID(), schemaVersion: 1, occurredAt: at });
  const e = (type: string, data: unknown, role = 'buyer', id = `u${n % 5000}`): NewEvent => ({ id: randomUUID(), type, data, metadata: meta(role, id) });
  const caseId = `c${n}`;
  return [
    e('ReturnRequested', {
      caseId,
      orderId: `o${n}`,
      buyerId: `u${n % 5000}`,
      merchantId: `m${n % 200}`,
      businessLine: `line${n % 7}`,
      kind: 'refund_only',
      reason: 'not_received',
      responsible: 'logistics',
      department: 'logistics',
      lines: [{ lineId: 'L1', quantity: 1, productId: `p${n % 900}`, category: 'tops', supplierId: `s${n % 50}` }],
      requestedAmount: 1000 + (n % 9000),
      currency: 'CNY',
      evidence: [],
      pickup: false,
    }),
    e('DeadlineSet', { name: 'merchantResponse', dueAt: at }),
    e('CaseUrged', { waitingFor: 'merchant', priority: 1 }),
    e('MerchantAgreed', { amount: 1000 + (n % 9000), auto: false }, 'merchant', `m${n % 200}-staff`),
    e('RefundIssued', { refundId: `${caseId}-r4`, amount: 1000 + (n % 9000), purpose: 'refund', express: false }, 'merchant', `m${n % 200}-staff`),
    e('RefundSettled', { refundId: `${caseId}-r4`, at }, 'integration', 'payments'),
    e('CaseCompleted', {}, 'integration', 'payments'),
    e('SatisfactionRated', { score: 1 + (n % 5), nps: n % 11 }),
    e('CaseNoteAdded', { text: 'called the buyer back' }, 'agent', 'agent-1'),
    e('CaseClaimed', { agentId: 'agent-1' }, 'agent', 'agent-1'),
  ];
}

const rate = (events: number, ms: number) => Math.round((events / ms) * 1000);
/** This process's CPU time (every thread, user and system) since `since`, per event: steadier than a rate on a shared machine. */
const cpuPerEvent = (since: NodeJS.CpuUsage, events: number) => {
  const used = process.cpuUsage(since);
  return ((used.user + used.system) / Math.max(1, events)).toFixed(2);
};
const print = (line: string) => process.stdout.write(`${line}\n`);

async function rebuildAll(store: ReadStore, events: SqliteEventStore, label: string, target: number): Promise<void> {
  await migrateReadStore(store);
  const chosen = ONLY ? PROJECTIONS.filter((p) => p.name === ONLY) : PROJECTIONS;
  if (chosen.length === 0) throw new Error(`BENCH_PROJECTION=${ONLY}: no such projection (${PROJECTIONS.map((p) => p.name).join(', ')})`);
  for (const projection of chosen) {
    const started = Date.now();
    const cpu = process.cpuUsage();
    const result = await rebuildProjection(store, events, projection);
    const perSecond = rate(result.eventsRead, Date.now() - started);
    print(
      `rebuild ${projection.name} into ${label}: ${perSecond.toLocaleString('en-US')} events/s (${result.eventsRead.toLocaleString('en-US')} events; target ≥ ${target.toLocaleString('en-US')}; ${cpuPerEvent(cpu, result.eventsRead)} µs CPU per event)`,
    );
  }
  if (ONLY) return;
  const started = Date.now();
  const all = await rebuildProjections(store, events, PROJECTIONS);
  print(`rebuild of every projection in one pass into ${label}: ${rate(all.eventsRead, Date.now() - started).toLocaleString('en-US')} events/s`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-projections-'));
  const path = join(dir, 'aftersales.db');
  const events = new SqliteEventStore({ path });
  try {
    print(`bench:projections on ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}, ${TOTAL_EVENTS.toLocaleString('en-US')} events`);
    const perCase = caseEvents(0).length;
    const cases = Math.ceil(TOTAL_EVENTS / perCase);
    const pending: Promise<unknown>[] = [];
    for (let n = 0; n < cases; n += 1) {
      pending.push(events.append(`aftersales-c${n}`, caseEvents(n), { expectedRevision: 'no_stream' }));
      if (pending.length >= 200) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    print(`seeded ${(await events.headPosition()).toLocaleString('en-US')} events in ${cases.toLocaleString('en-US')} cases`);

    let scanned = 0;
    let position = 0;
    const scanStarted = Date.now();
    for (;;) {
      const batch = await events.readAll({ after: position, maxCount: 5000 });
      if (batch.length === 0) break;
      scanned += batch.length;
      position = batch[batch.length - 1].position;
    }
    print(`plain scan (readAll, JSON parsed): ${rate(scanned, Date.now() - scanStarted).toLocaleString('en-US')} events/s`);

    const sqlite = openReadStore({ kind: 'sqlite', sqlitePath: path });
    try {
      await rebuildAll(sqlite, events, 'SQLite', TARGETS.sqlite);
    } finally {
      await sqlite.close();
    }
    await withPostgres(async (readStore) => {
      const postgres = openReadStore(readStore);
      try {
        await rebuildAll(postgres, events, 'PostgreSQL', TARGETS.postgres);
      } finally {
        await postgres.close();
      }
    });
  } finally {
    await events.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const finished = main().catch((error: unknown) => {
  process.stderr.write(`bench:projections failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
});
