import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { AppConfig } from '@aftersales/config';
import { IdempotencyModule, InfrastructureModule } from '@aftersales/application';
import { EdgeGuard } from './auth/edge.guard';
import { EdgeRoutes } from './auth/edge-routes';
import { CommandApiModule } from './command-api.module';
import { TokenVerifier } from './auth/token-verifier';
import { HealthController } from './health/health.controller';
import { HttpEdgeSetup } from './http/http-edge';
import { IdempotencyGate } from './idempotency/idempotency-gate';
import { IdempotencyRecorder } from './idempotency/idempotency-recorder';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProblemFilter } from './problem/problem.filter';
import { QueuesDashboard } from './queues/queues-dashboard';
import { QueriesApiModule } from './queries/queries-api.module';
import { createValidationPipe } from './problem/validation';
import { CallerRateLimiter } from './rate-limit/caller-rate-limiter';

/**
 * The API process. Everything a route gets without asking is global here:
 * the edge guard (token, rate limit, role, route checks, a refused body,
 * Idempotency-Key), the strict ValidationPipe and the problem+json filter.
 * Route modules are added to `imports`.
 *
 * There are deliberately no global interceptors: with any, Nest wraps every
 * request's handler in rxjs and an AsyncResource.bind per interceptor step,
 * a measurable cost per command. What they did is the edge guard's last
 * steps and Fastify hooks (IdempotencyRecorder) instead.
 */
@Module({})
export class ApiModule {
  /** `roles`: other roles run in the same process (worker, projector), sharing its infrastructure and /metrics. */
  static register(config: AppConfig, roles: DynamicModule[] = []): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        InfrastructureModule.forRoot(config),
        IdempotencyModule.forRoot(config),
        LoggingModule.forRoot(config),
        MetricsModule,
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
        CommandApiModule,
        QueriesApiModule.register(config),
        ...roles,
      ],
      controllers: [HealthController],
      providers: [
        HttpEdgeSetup,
        TokenVerifier,
        CallerRateLimiter,
        EdgeRoutes,
        IdempotencyGate,
        IdempotencyRecorder,
        QueuesDashboard,
        { provide: APP_GUARD, useClass: EdgeGuard },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
