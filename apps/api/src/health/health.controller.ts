import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { EVENT_STORE, REDIS } from '@aftersales/application';
import type { EventStore } from '@aftersales/event-store';

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
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness and readiness: event store and Redis reachable' })
  @ApiResponse({ status: 200, description: 'Every dependency answered' })
  @ApiResponse({ status: 503, description: 'A dependency did not answer; the body says which' })
  check() {
    return this.health.check([
      () => this.probe('eventStore', async () => ({ headPosition: await this.eventStore.headPosition() })),
      () => this.probe('redis', async () => ({ reply: await this.redis.ping() })),
    ]);
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
