import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { AvailabilityCacheModule } from './cache/cache.module';
import { CheckoutModule } from './checkout/checkout.module';
import { JsonBodyGuard, RouteAuthGuard } from './http/request-guards';
import { createValidationPipe } from './http/validation';
import { RateLimitGuard, rateLimitOptions, rateLimitsOn } from './http/rate-limit';
import { AppConfig, DbType } from './config/config';
import { DatabaseModule } from './database/database.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { HealthModule } from './health/health.module';
import { ObservabilityModule } from './observability/observability.module';
import { HoldModule } from './hold/hold.module';
import { OrderModule } from './order/order.module';
import { PaymentModule } from './payment/payment.module';
import { ProductModule } from './product/product.module';
import { StockChangesModule } from './changes/changes.module';
import { LiveModule } from './live/live.module';

/**
 * The application, built from one validated configuration (AppConfigModule). Global pipe, filter and guards
 * are registered here (not in main.ts) so that tests get exactly the production behaviour.
 * Guards run in the order listed: authentication first (it names the buyer), then the rate
 * limits (only when one is on: @nestjs/throttler), then the JSON body check.
 */
@Module({})
export class AppModule {
  static forRoot(configModule: DynamicModule, config: AppConfig, dbType: DbType): DynamicModule {
    const limits = rateLimitsOn(config);
    return {
      module: AppModule,
      imports: [
        configModule,
        DatabaseModule.forRoot(config, dbType),
        ScheduleModule.forRoot(),
        ObservabilityModule,
        HealthModule,
        AvailabilityCacheModule,
        StockChangesModule,
        IdempotencyModule,
        HoldModule,
        ProductModule,
        OrderModule,
        PaymentModule,
        CheckoutModule,
        LiveModule,
        ...(limits ? [ThrottlerModule.forRoot(rateLimitOptions(config))] : []),
      ],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        // The two guards are providers of their own too: the routes answered outside Nest's
        // router (serveDirectly) call the same instances.
        RouteAuthGuard,
        { provide: APP_GUARD, useExisting: RouteAuthGuard },
        ...(limits ? [RateLimitGuard, { provide: APP_GUARD, useExisting: RateLimitGuard }] : []),
        { provide: APP_GUARD, useClass: JsonBodyGuard },
      ],
    };
  }
}
