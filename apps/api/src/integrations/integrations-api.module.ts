import { Module } from '@nestjs/common';
import { ApplicationModule, IntegrationsModule } from '@aftersales/application';
import { CommandGateway } from '../cases/command-gateway';
import { IntegrationsController } from './integrations.controller';
import { SignatureCheck } from './signature-check';
import { TrackingNumberCheck } from './tracking-number-check';

/** The signed integration callbacks (the signature check, the parcel index, the two routes) and the tracking-number check of the case routes. */
@Module({
  imports: [ApplicationModule, IntegrationsModule],
  controllers: [IntegrationsController],
  providers: [CommandGateway, SignatureCheck, TrackingNumberCheck],
  exports: [TrackingNumberCheck],
})
export class IntegrationsApiModule {}
