import { Module } from '@nestjs/common';
import { ProductModule } from '../product/product.module';
import { HoldController } from './hold.controller';
import { HoldExpiryJob } from './hold-expiry.job';
import { HoldService } from './hold.service';

@Module({
  imports: [ProductModule],
  controllers: [HoldController],
  providers: [HoldService, HoldExpiryJob],
  exports: [HoldService, HoldExpiryJob],
})
export class HoldModule {}
