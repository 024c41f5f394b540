import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AppConfig } from '@aftersales/config';
import { InfrastructureModule } from '@aftersales/application';
import { HealthController } from './health/health.controller';

const CORRELATION_HEADER = 'x-correlation-id';

@Module({})
export class ApiModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        InfrastructureModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            // One id follows a request through logs and into its events' metadata.
            genReqId: (request: IncomingMessage) => {
              const given = request.headers[CORRELATION_HEADER];
              return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
            },
            customProps: (request: IncomingMessage) => ({ correlationId: (request as IncomingMessage & { id?: string }).id }),
            redact: ['req.headers.authorization', 'req.headers["x-signature"]'],
            autoLogging: { ignore: (request: IncomingMessage) => request.url === '/health' },
          },
        }),
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ],
      controllers: [HealthController],
    };
  }
}
