import { Module } from '@nestjs/common';
import { ApplicationModule, IntegrationsModule } from '@aftersales/application';
import { CommandGateway } from '../cases/command-gateway';
import { IntegrationsController } from './integrations.controller';
import { SignatureCheck } from './signature-check';

/** The signed integration callbacks: the signature check, the parcel index and the two routes. */
@Module({
  imports: [ApplicationModule, IntegrationsModule],
  controllers: [IntegrationsController],
  providers: [CommandGateway, SignatureCheck],
})
export class IntegrationsApiModule {}
