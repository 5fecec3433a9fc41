import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { cacheStores } from './cache-stores';

/**
 * The availability cache's store, behind CACHE_MANAGER for every module: in-process by default,
 * Redis when REDIS_URL is set (several instances then share entries). What is cached, and when it
 * is refreshed, is the product module's business (src/product/cache/).
 */
@Module({
  imports: [
    CacheModule.registerAsync({
      isGlobal: true,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({ stores: cacheStores(config), ttl: config.availabilityCacheTtlMs }),
    }),
  ],
})
export class AvailabilityCacheModule {}
