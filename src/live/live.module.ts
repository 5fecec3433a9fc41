import { Module } from '@nestjs/common';
import { ProductModule } from '../product/product.module';
import { AvailabilityHubService } from './availability-hub.service';
import { AvailabilityStreamController } from './availability-stream.controller';
import { LiveReadService } from './live-read.service';
import { SalesController } from './sales.controller';

/**
 * Live views of availability: the server-sent event stream of a product
 * (`GET /api/products/:id/stream`), the admin's sales figures, and the pages that show them
 * (static-pages.ts). Hears stock changes through StockChangesService; owns no table.
 */
@Module({
  imports: [ProductModule],
  controllers: [AvailabilityStreamController, SalesController],
  providers: [AvailabilityHubService, LiveReadService],
})
export class LiveModule {}
