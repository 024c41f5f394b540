import { Global, Inject, Injectable, Module, type DynamicModule, type INestApplicationContext, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import type { AppConfig } from '@aftersales/config';
import { APP_CONFIG, ApplicationModule, BuyerFlagsService, Clock, EVENT_STORE, PolicyService } from '@aftersales/application';
import { CASE_KINDS, CASE_STATUSES, caseStream, type CaseKind, type CaseStatus } from '@aftersales/domain';
import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@aftersales/event-store';
import { DAY } from './case-plans';
import { Random } from './random';
import { SimulatedClock } from './simulated-clock';
import { Simulation, type SimulationCounts } from './simulation';

export interface SeedOptions {
  /** Requests to make (default 1000). */
  cases: number;
  /** The history covers the last `days` days before `now` (default 90). */
  days: number;
  /** The same seed makes the same history (default 1). */
  seed: number;
  /** Add to a store that already holds cases (otherwise refused). */
  append: boolean;
  /** End of the history; the real time by default. */
  now?: Date;
}

export interface SeedSummary {
  from: string;
  to: string;
  seed: number;
  requested: number;
  opened: number;
  commands: number;
  refusals: Record<string, number>;
  deadlinesFired: Record<string, number>;
  buyersFlagged: number;
  /** Final status of every case opened, by kind. */
  byKind: Record<CaseKind, Partial<Record<CaseStatus, number>>>;
  eventsWritten: number;
  eventsByType: Record<string, number>;
  refunds: { issued: number; settled: number; failed: number; amountSettled: number; compensationSettled: number };
  elapsedMs: number;
  casesPerSecond: number;
}

/** The store already holds cases: a seed is for an empty or a test data folder. */
export class StoreNotEmptyError extends Error {
  override readonly name = 'StoreNotEmptyError';
}

export interface SeedOutput {
  write(text: string): void;
  isTTY?: boolean;
}

@Injectable()
class EventStoreClose implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * The configuration and the event store under InfrastructureModule's
 * tokens, without the Redis connection InfrastructureModule also opens: the
 * seed writes through the command handlers only, and has no use for Redis.
 */
@Global()
@Module({})
class SeedPortsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: SeedPortsModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        {
          provide: EVENT_STORE,
          useFactory: (): EventStore =>
            config.eventStore.kind === 'eventstoredb'
              ? new EventStoreDbEventStore({ connectionString: config.eventStore.connectionString })
              : new SqliteEventStore({ path: config.eventStore.sqlitePath }),
        },
        EventStoreClose,
      ],
      exports: [APP_CONFIG, EVENT_STORE],
    };
  }
}

@Module({})
class SeedModule {
  static register(config: AppConfig): DynamicModule {
    return { module: SeedModule, imports: [SeedPortsModule.forRoot(config), ApplicationModule], providers: [BuyerFlagsService] };
  }
}

/**
 * Writes a seeded after-sales history into the configured event store,
 * through the same command handlers the API and the worker use. The read
 * models follow it as they follow any write (the projector, or
 * `projections rebuild`).
 */
export async function seed(config: AppConfig, options: SeedOptions, output?: SeedOutput): Promise<SeedSummary> {
  const end = (options.now ?? new Date()).getTime();
  const start = end - options.days * DAY;
  const clock = new SimulatedClock(end);
  const app = await NestFactory.createApplicationContext(SeedModule.register(config), { logger: ['error', 'warn'], abortOnError: false });
  try {
    useClock(app, clock);
    const store = app.get<EventStore>(EVENT_STORE);
    const head = await store.headPosition();
    if (!options.append && (await holdsCases(store))) {
      throw new StoreNotEmptyError(
        `the event store (${describeStore(config)}) already holds cases; seed an empty or a test data folder (SQLITE_PATH), or pass --append to add to it`,
      );
    }
    // Appending: another run's ids and tracking numbers must not be met again, so the run is told apart by where the log stood.
    const runTag = options.append && head > 0 ? `${options.seed.toString(36)}x${head.toString(36)}` : options.seed.toString(36);
    const random = new Random(options.append ? options.seed ^ head : options.seed);
    const simulation = new Simulation(
      {
        commandBus: app.get(CommandBus),
        policies: app.get(PolicyService),
        buyerFlags: app.get(BuyerFlagsService),
        store,
        clock,
        random,
      },
      { cases: options.cases, start, end, runTag },
    );

    const began = Date.now();
    const progress = new ProgressLine(output, began);
    await simulation.run({ onRequest: (counts, total) => progress.update(counts, total) });
    progress.done(simulation.counts, options.cases);
    const elapsedMs = Date.now() - began;

    const byKind = Object.fromEntries(CASE_KINDS.map((k) => [k, {}])) as SeedSummary['byKind'];
    for (const { state } of simulation.cases.values()) {
      const row = byKind[state.kind];
      row[state.status] = (row[state.status] ?? 0) + 1;
    }
    const written = await eventsSince(store, head);
    return {
      from: new Date(start).toISOString(),
      to: new Date(end).toISOString(),
      seed: options.seed,
      requested: simulation.counts.requested,
      opened: simulation.counts.opened,
      commands: simulation.counts.commands,
      refusals: simulation.counts.refusals,
      deadlinesFired: simulation.counts.deadlinesFired,
      buyersFlagged: simulation.counts.buyersFlagged,
      byKind,
      ...written,
      elapsedMs,
      casesPerSecond: elapsedMs > 0 ? (simulation.counts.requested * 1000) / elapsedMs : 0,
    };
  } finally {
    await app.close();
  }
}

/**
 * ApplicationModule binds `Clock` to the system clock itself, and Nest
 * replaces a module's provider only in a testing module (@nestjs/testing,
 * a development dependency). Every handler shares that one instance, so
 * its `now` is pointed at the simulated clock instead.
 */
function useClock(app: INestApplicationContext, clock: SimulatedClock): void {
  const bound = app.get(Clock, { strict: false });
  bound.now = () => clock.now();
}

/** Whether any case stream exists, from the log's first events on (a case's first event is early in any real store). */
async function holdsCases(store: EventStore): Promise<boolean> {
  const prefix = caseStream('');
  let after = 0;
  for (;;) {
    const batch = await store.readAll({ after, maxCount: 1000 });
    if (batch.length === 0) return false;
    if (batch.some((e) => e.streamName.startsWith(prefix))) return true;
    after = batch[batch.length - 1].position;
  }
}

/** What this run wrote, read back from the log. */
async function eventsSince(store: EventStore, head: number): Promise<Pick<SeedSummary, 'eventsWritten' | 'eventsByType' | 'refunds'>> {
  const eventsByType: Record<string, number> = {};
  const refunds = { issued: 0, settled: 0, failed: 0, amountSettled: 0, compensationSettled: 0 };
  const purposes = new Map<string, { amount: number; purpose: string }>();
  let eventsWritten = 0;
  let after = head;
  for (;;) {
    const batch = await store.readAll({ after, maxCount: 5000 });
    if (batch.length === 0) break;
    for (const event of batch) {
      eventsWritten += 1;
      eventsByType[event.type] = (eventsByType[event.type] ?? 0) + 1;
      const data = event.data as { refundId?: string; amount?: number; purpose?: string };
      if (event.type === 'RefundIssued' && data.refundId) {
        refunds.issued += 1;
        purposes.set(data.refundId, { amount: data.amount ?? 0, purpose: data.purpose ?? 'refund' });
      } else if (event.type === 'RefundSettled' && data.refundId) {
        refunds.settled += 1;
        const issued = purposes.get(data.refundId);
        if (issued?.purpose === 'compensation') refunds.compensationSettled += issued.amount;
        else refunds.amountSettled += issued?.amount ?? 0;
      } else if (event.type === 'RefundFailed') {
        refunds.failed += 1;
      }
    }
    after = batch[batch.length - 1].position;
  }
  return { eventsWritten, eventsByType, refunds };
}

function describeStore(config: AppConfig): string {
  return config.eventStore.kind === 'sqlite' ? `SQLite file ${config.eventStore.sqlitePath}` : 'EventStoreDB';
}

/** `seed: 420/1000 cases, 5,310 commands, 210 cases/s` on stderr, rewritten in place on a terminal, once a second otherwise. */
class ProgressLine {
  private lastWrite = 0;

  constructor(
    private readonly output: SeedOutput | undefined,
    private readonly began: number,
  ) {}

  update(counts: SimulationCounts, total: number): void {
    const now = Date.now();
    if (!this.output || now - this.lastWrite < (this.output.isTTY ? 200 : 1000)) return;
    this.lastWrite = now;
    this.output.write(`${this.output.isTTY ? '\r' : ''}${this.line(counts, total, now)}${this.output.isTTY ? '' : '\n'}`);
  }

  done(counts: SimulationCounts, total: number): void {
    this.output?.write(`${this.output.isTTY ? '\r' : ''}${this.line(counts, total, Date.now())}\n`);
  }

  private line(counts: SimulationCounts, total: number, now: number): string {
    const seconds = Math.max(0.001, (now - this.began) / 1000);
    const n = (x: number) => Math.round(x).toLocaleString('en-US');
    return `seed: ${n(counts.requested)}/${n(total)} cases, ${n(counts.commands)} commands, ${n(counts.requested / seconds)} cases/s`;
  }
}

/** The summary printed at the end: cases by kind and final status, events, refunds, deadlines, refusals. */
export function formatSummary(summary: SeedSummary): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const money = (minor: number) => (minor / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const statuses = CASE_STATUSES.filter((s) => CASE_KINDS.some((k) => summary.byKind[k][s]));
  const rows = [['kind', ...statuses, 'total']];
  for (const kind of CASE_KINDS) {
    const row = summary.byKind[kind];
    const total = Object.values(row).reduce((s, x) => s + (x ?? 0), 0);
    rows.push([kind, ...statuses.map((s) => String(row[s] ?? 0)), String(total)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
  const list = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ') || 'none';
  const refusals = Object.values(summary.refusals).reduce((s, x) => s + x, 0);
  return [
    `Seeded ${n(summary.opened)} cases (${n(summary.requested)} requests) from ${summary.from} to ${summary.to}, seed ${summary.seed}, in ${(summary.elapsedMs / 1000).toFixed(1)} s (${n(summary.casesPerSecond)} cases/s).`,
    '',
    'Cases by kind and final status:',
    table,
    '',
    `Events written: ${n(summary.eventsWritten)} (${n(summary.commands)} commands; ${n(refusals)} refused by the domain: ${list(summary.refusals)})`,
    `Refunds: ${n(summary.refunds.issued)} issued, ${n(summary.refunds.settled)} settled (${money(summary.refunds.amountSettled)} refunded, ${money(summary.refunds.compensationSettled)} compensation), ${n(summary.refunds.failed)} failed attempts`,
    `Deadlines fired: ${list(summary.deadlinesFired)}`,
    `Buyers flagged for abuse: ${n(summary.buyersFlagged)}`,
  ].join('\n');
}
