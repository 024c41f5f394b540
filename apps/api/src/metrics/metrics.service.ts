import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerThreadCpu, type AppendObserver, type AppendOutcome } from '@aftersales/application';

/** Route label for requests that matched no route, so raw URLs never become label values. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * The process's Prometheus registry (served at /metrics). One registry per
 * application instance rather than prom-client's global one, so several
 * instances in one process (tests) do not collide. Later code records its
 * own series here: `commandOutcomes` and `eventStoreAppendDuration` are
 * declared already, and `counter()`/`histogram()` add more.
 */
@Injectable()
export class MetricsService implements OnModuleInit, AppendObserver {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Commands by name and outcome (`accepted`, `refused`, `conflict`, `failed`, ...). */
  readonly commandOutcomes = new Counter({
    name: 'command_outcomes_total',
    help: 'Commands handled, by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly eventStoreAppendDuration = new Histogram({
    name: 'event_store_append_duration_seconds',
    help: 'Time to append to a stream, until the store acknowledged it',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  private readonly sources: Array<() => Promise<string>> = [];

  /**
   * Metrics kept outside this registry (the roles `npm start` runs in threads
   * of their own), served after the API's own. Their names must not repeat
   * the API's: each source registers only its role's series.
   */
  addSource(source: () => Promise<string>): void {
    this.sources.push(source);
  }

  /** Everything /metrics serves, in Prometheus text. */
  async exposition(): Promise<string> {
    const parts = await Promise.all([this.registry.metrics(), ...this.sources.map((source) => source())]);
    return parts.filter((part) => part !== '').join('\n');
  }

  appendObserved(seconds: number, outcome: AppendOutcome): void {
    this.eventStoreAppendDuration.observe({ outcome }, seconds);
  }

  constructor(private readonly adapterHost: HttpAdapterHost) {
    collectDefaultMetrics({ register: this.registry });
    // Constructed on the API's own thread: its event loop's CPU, beside the role threads' (apps/aftersales).
    registerThreadCpu(this.registry, 'api');
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // onResponse sees every answer: handlers, guards, Fastify's own errors and 404s.
    fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const labels = { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) };
      this.httpRequests.inc(labels);
      this.httpRequestDuration.observe(labels, reply.elapsedTime / 1000);
      done();
    });
  }

  recordCommandOutcome(command: string, outcome: string): void {
    this.commandOutcomes.inc({ command, outcome });
  }

  /** A counter registered here, or the one already registered under that name. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Counter<L>;
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** A histogram registered here, or the one already registered under that name. */
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Histogram<L>;
    return new Histogram({ name, help, labelNames, ...(buckets ? { buckets } : {}), registers: [this.registry] });
  }
}
