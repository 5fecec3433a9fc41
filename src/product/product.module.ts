import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HoldModule } from '../hold/hold.module';
import { LedgerModule } from '../ledger/ledger.module';
import { OrderModule } from '../order/order.module';
import { ProductCacheService } from './cache/product-cache.service';
import { ProductAdminService } from './product-admin.service';
import { ProductController } from './product.controller';
import { Product } from './product.entity';
import { ProductMetrics } from './product-metrics';
import { ProductService } from './product.service';
import { StockService } from './stock.service';
import { BuyerLimitService } from './buyer-limit.service';

/**
 * Owns the products table and its stock figures: StockService is where every unit moves. Reads
 * the lapsed holds and orders through the hold and order modules (below it); knows nothing of
 * payments.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Product]), HoldModule, OrderModule, LedgerModule],
  controllers: [ProductController],
  providers: [ProductService, ProductAdminService, StockService, BuyerLimitService, ProductCacheService, ProductMetrics],
  exports: [ProductService, StockService],
})
export class ProductModule {}
