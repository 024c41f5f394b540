import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Clock, SystemClock } from './commands/clock';
import { ExecuteCaseCommandHandler } from './commands/execute-case-command.handler';
import { ExecuteOrderCommandHandler } from './commands/execute-order-command.handler';
import { OrderFollowUpService } from './commands/order-follow-up.service';
import { PolicyService } from './policy/policy.service';
import { StreamReadsService } from './views/stream-reads.service';

/**
 * Command handlers and stream reads shared by every process role. Needs
 * InfrastructureModule (APP_CONFIG, EVENT_STORE) in the same application.
 */
@Module({
  imports: [CqrsModule.forRoot()],
  providers: [
    { provide: Clock, useClass: SystemClock },
    ExecuteCaseCommandHandler,
    ExecuteOrderCommandHandler,
    OrderFollowUpService,
    PolicyService,
    StreamReadsService,
  ],
  exports: [CqrsModule, Clock, PolicyService, StreamReadsService, OrderFollowUpService],
})
export class ApplicationModule {}
