import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HoldController } from './hold.controller';
import { Hold } from './hold.entity';
import { HoldService } from './hold.service';

/** Owns the holds table. Knows nothing of products or orders; the use cases above combine them. */
@Module({
  imports: [TypeOrmModule.forFeature([Hold])],
  controllers: [HoldController],
  providers: [HoldService],
  exports: [HoldService],
})
export class HoldModule {}
