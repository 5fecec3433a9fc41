import { Module } from '@nestjs/common';
import { LedgerController } from './ledger.controller';
import { LedgerService } from './ledger.service';

/**
 * Owns the stock_movements table (the stock ledger). Knows nothing of the other modules: the
 * product module's StockService appends to it with each change of the figures.
 */
@Module({
  controllers: [LedgerController],
  providers: [LedgerService],
  exports: [LedgerService],
})
export class LedgerModule {}
