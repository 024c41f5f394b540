import { Module } from '@nestjs/common';
import { ApplicationModule, BuyerFlagsService } from '@aftersales/application';
import { BuyersController } from './buyers.controller';

/** The buyer flag routes (admin). */
@Module({
  imports: [ApplicationModule],
  controllers: [BuyersController],
  providers: [BuyerFlagsService],
})
export class BuyersApiModule {}
