import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HoldModule } from '../hold/hold.module';
import { ProductCacheService } from './cache/product-cache.service';
import { ProductAdminService } from './product-admin.service';
import { ProductController } from './product.controller';
import { Product } from './product.entity';
import { ProductMetrics } from './product-metrics';
import { ProductService } from './product.service';
import { StockService } from './stock.service';

/**
 * Owns the products table and its stock figures: StockService is where every unit moves. Reads
 * the lapsed holds through the hold module (below it); knows nothing of orders or payments.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Product]), HoldModule],
  controllers: [ProductController],
  providers: [ProductService, ProductAdminService, StockService, ProductCacheService, ProductMetrics],
  exports: [ProductService, StockService],
})
export class ProductModule {}
