import { Module } from '@nestjs/common';
import { ApplicationModule } from '@aftersales/application';
import { BuyersApiModule } from './buyers/buyers-api.module';
import { CasesController } from './cases/cases.controller';
import { CommandGateway } from './cases/command-gateway';
import { IntegrationsApiModule } from './integrations/integrations-api.module';
import { OrdersController } from './orders/orders.controller';
import { PoliciesController } from './policies/policies.controller';
import { WebhooksApiModule } from './webhooks/webhooks-api.module';

/**
 * The command routes and the reads that must reflect a write at once (from
 * the streams): orders, cases and policies. Needs ApiModule's global edge
 * (token, roles, idempotency, validation, problem+json) and its
 * InfrastructureModule.
 */
@Module({
  imports: [ApplicationModule, IntegrationsApiModule, BuyersApiModule, WebhooksApiModule],
  controllers: [OrdersController, CasesController, PoliciesController],
  providers: [CommandGateway],
})
export class CommandApiModule {}
