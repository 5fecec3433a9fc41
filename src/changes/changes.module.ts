import { Global, Module } from '@nestjs/common';
import { StockChangesService } from './stock-changes.service';

/**
 * The news that a product's stock moved, within an instance and (with REDIS_URL) between
 * instances. Told by the product module after each commit, heard by the live views above it.
 */
@Global()
@Module({
  providers: [StockChangesService],
  exports: [StockChangesService],
})
export class StockChangesModule {}
