import { Module } from '@nestjs/common';
import { ApplicationModule, IntegrationsModule } from '@aftersales/application';
import { CommandGateway } from '../cases/command-gateway';
import { IntegrationsController } from './integrations.controller';
import { SignatureGuard } from './signature.guard';

/** The signed integration callbacks: the signature guard, the parcel index and the two routes. */
@Module({
  imports: [ApplicationModule, IntegrationsModule],
  controllers: [IntegrationsController],
  providers: [CommandGateway, SignatureGuard],
})
export class IntegrationsApiModule {}
