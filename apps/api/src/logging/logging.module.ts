import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '@aftersales/config';
import { AccessLog } from './access-log';
import { JsonLogger, ROOT_LOGGER, createRootLogger } from '@aftersales/application';

/**
 * The root logger at LOG_LEVEL, the LoggerService main.ts hands Nest, and
 * the access log. A test captures the output by overriding ROOT_LOGGER with
 * `createRootLogger(level, stream)`.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      providers: [{ provide: ROOT_LOGGER, useFactory: () => createRootLogger(config.logLevel) }, JsonLogger, AccessLog],
    };
  }
}
