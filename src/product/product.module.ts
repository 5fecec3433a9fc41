import { CacheModule } from '@nestjs/cache-manager';
import { Module, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../observability/metrics.service';
import { cacheStores } from './cache/cache-stores';
import { ProductCacheInterceptor } from './cache/product-cache.interceptor';
import { ProductCacheService } from './cache/product-cache.service';
import { ProductAdminService } from './product-admin.service';
import { ProductController } from './product.controller';
import { ProductService } from './product.service';
import { StockService } from './stock.service';

@Module({
  imports: [
    CacheModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ stores: cacheStores(config), ttl: config.availabilityCacheTtlMs }),
    }),
  ],
  controllers: [ProductController],
  providers: [ProductService, ProductAdminService, StockService, ProductCacheService, ProductCacheInterceptor],
  exports: [ProductService, StockService, ProductCacheService],
})
export class ProductModule implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly products: ProductService,
  ) {}

  /** The product_available / product_stock gauges read the products when scraped. */
  onModuleInit(): void {
    this.metrics.setProductFigures(() => this.products.findAll());
  }
}
