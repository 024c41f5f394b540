import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { EVENT_STORE, REDIS } from '@aftersales/application';
import type { EventStore } from '@aftersales/event-store';
import { pingReadStore, READ_STORE, type ReadStore } from '@aftersales/read-models';
import { Public } from '../auth/decorators';
import { ProblemException } from '../problem/problem';

const CHECK_TIMEOUT_MS = 2000;

/** 200 once every store this process depends on answers, 503 otherwise (API.md, Outbound). */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(EVENT_STORE) private readonly eventStore: EventStore,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness and readiness: event store, Redis and read store reachable' })
  @ApiResponse({ status: 200, description: 'Every dependency answered' })
  @ApiResponse({ status: 503, description: 'A dependency did not answer; `checks` says which (problem+json)' })
  async check(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.probe('eventStore', async () => ({ headPosition: await this.eventStore.headPosition() })),
        () => this.probe('redis', async () => ({ reply: await this.redis.ping() })),
        () => this.probe('readStore', async () => (await pingReadStore(this.readStore), { kind: this.readStore.dialect })),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      // Errors are problem+json everywhere; the terminus result goes along as `checks`.
      const result = error.getResponse() as Partial<HealthCheckResult>;
      const down = Object.keys(result.error ?? {});
      throw new ProblemException(503, 'Service Unavailable', `Not every dependency answered: ${down.join(', ') || 'unknown'}.`, {
        checks: result.details,
      });
    }
  }

  private async probe<K extends string>(key: K, call: () => Promise<Record<string, unknown>>) {
    const indicator = this.indicators.check(key);
    try {
      return indicator.up(await withTimeout(call(), CHECK_TIMEOUT_MS));
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
