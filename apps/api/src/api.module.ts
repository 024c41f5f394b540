import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import type { AppConfig } from '@aftersales/config';
import { IdempotencyModule, InfrastructureModule } from '@aftersales/application';
import { EdgeGuard } from './auth/edge.guard';
import { CommandApiModule } from './command-api.module';
import { TokenVerifier } from './auth/token-verifier';
import { HealthController } from './health/health.controller';
import { HttpEdgeSetup } from './http/http-edge';
import { RefusedBodyInterceptor } from './http/refused-body.interceptor';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProblemFilter } from './problem/problem.filter';
import { createValidationPipe } from './problem/validation';
import { CallerThrottlerGuard } from './rate-limit/caller-throttler.guard';
import { FixedWindowThrottlerStorage } from './rate-limit/fixed-window-storage';

const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * The API process. Everything a route gets without asking is global here:
 * the edge guard (token, rate limit, role), the refused-body and idempotency
 * interceptors, the strict ValidationPipe and the problem+json filter. Route
 * modules are added to `imports`.
 */
@Module({})
export class ApiModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        InfrastructureModule.forRoot(config),
        IdempotencyModule.forRoot(config),
        LoggingModule.forRoot(config),
        MetricsModule,
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
        ThrottlerModule.forRoot({
          throttlers: [{ name: 'default', ttl: RATE_LIMIT_WINDOW_MS, limit: config.rateLimitPerMinute }],
          storage: new FixedWindowThrottlerStorage(),
        }),
        CommandApiModule,
      ],
      controllers: [HealthController],
      providers: [
        HttpEdgeSetup,
        TokenVerifier,
        CallerThrottlerGuard,
        { provide: APP_GUARD, useClass: EdgeGuard },
        // Global interceptors run in this order: a refused body is answered before idempotency records anything.
        { provide: APP_INTERCEPTOR, useClass: RefusedBodyInterceptor },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
