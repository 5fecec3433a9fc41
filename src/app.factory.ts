import { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { configureHttp, createHttpAdapter } from './http/http-setup';
import { AppConfig } from './config/config';
import { AppConfigModule } from './config/config.module';
import { dataSourceOptions } from './database/data-source';
import { ensureDatabase, migrateAndSeed } from './database/prepare-database';
import { setUpApiDocs } from './http/openapi';
import { serveStaticPages } from './live/static-pages';
import { AppLogger } from './observability/app-logger';
import { ProductSeeder } from './product/product.seeder';
import { serveProductReadsDirectly } from './product/product-read.route';
import { serveHoldsDirectly } from './checkout/place-hold.route';
import { observeHttp } from './observability/http-observer';
import { MetricsService } from './observability/metrics.service';
import type { DestinationStream } from 'pino';

export interface CreateAppOptions {
  /** Create the database, run migrations and seed the demo product first (default true). */
  prepare?: boolean;
  seed?: boolean;
  /** The logger (main.ts keeps it to flush it on exit); by default one on LOG_LEVEL. */
  logger?: AppLogger;
  /** Where log lines go (default stdout) when no logger is given; tests capture them here. */
  logDestination?: DestinationStream;
  /** The module that provides `config` (main.ts: from the environment and .env); by default one that just holds it. */
  configModule?: DynamicModule;
  /**
   * Answer the hottest routes by their direct handlers (default true); false serves every route
   * through Nest, for the tests that hold the two to the same answers.
   */
  directRoutes?: boolean;
}

/**
 * Builds the ready-to-listen application: the database is created if missing and migrated before
 * the app (and its expiry job) starts, so no request or sweep ever meets an old schema.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const dbType = await ensureDatabase(config);
  if (options.prepare !== false) {
    const migrator = new DataSource({ ...dataSourceOptions(config, dbType), poolSize: 2 });
    await migrator.initialize();
    try {
      await migrateAndSeed(migrator, config, options.seed !== false ? (ds) => new ProductSeeder(ds, config).run() : undefined);
    } finally {
      await migrator.destroy();
    }
  }
  const logger = options.logger ?? new AppLogger(config.logLevel, options.logDestination);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(options.configModule ?? AppConfigModule.withConfig(config), config, dbType),
    createHttpAdapter(config.trustProxy),
    {
      bodyParser: false,
      logger,
      abortOnError: false,
    },
  );
  configureHttp(app);
  // The two hottest routes skip Nest's per-request machinery.
  if (options.directRoutes !== false) {
    serveProductReadsDirectly(app);
    serveHoldsDirectly(app);
  }
  observeHttp(app, logger, app.get(MetricsService));
  setUpApiDocs(app);
  serveStaticPages(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
