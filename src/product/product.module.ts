import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
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
export class ProductModule {}
