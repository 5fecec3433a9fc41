import { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { createHttpAdapter, configureHttp } from './common/http-setup';
import { AppConfig } from './config/config';
import { dataSourceOptions } from './database/data-source';
import { ensureDatabase, migrateAndSeed } from './database/prepare-database';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function nestLogLevels(level: string): LogLevel[] | false {
  switch (level) {
    case 'silent':
      return false;
    case 'fatal':
      return ['fatal'];
    case 'error':
      return ['fatal', 'error'];
    case 'warn':
      return ['fatal', 'error', 'warn'];
    case 'info':
      return ['fatal', 'error', 'warn', 'log'];
    default:
      return LEVELS;
  }
}

export interface CreateAppOptions {
  /** Create the database, run migrations and seed the demo product first (default true). */
  prepare?: boolean;
  seed?: boolean;
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
      await migrateAndSeed(migrator, config, options.seed !== false);
    } finally {
      await migrator.destroy();
    }
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, dbType), createHttpAdapter(), {
    bodyParser: false,
    logger: nestLogLevels(config.logLevel),
    abortOnError: false,
  });
  configureHttp(app);
  app.enableShutdownHooks();
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
