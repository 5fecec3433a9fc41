import 'reflect-metadata';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Connection, createConnection } from 'mysql2/promise';
import type { DestinationStream } from 'pino';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/config/config';

/** Environment every test starts from: quiet logs, and a sweep that only runs when a test asks. */
export const TEST_ENV: Record<string, string> = {
  LOG_LEVEL: 'silent',
  HOLD_SWEEP_INTERVAL_SECONDS: '3600',
  DB_HOST: process.env.DB_HOST ?? '127.0.0.1',
  DB_PORT: process.env.DB_PORT ?? '3306',
  DB_USER: process.env.DB_USER ?? 'root',
  DB_PASSWORD: process.env.DB_PASSWORD ?? '',
};

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  dataSource: DataSource;
  url: string;
  http: () => ReturnType<typeof request>;
  close: () => Promise<void>;
}

/**
 * A test file's database name. TEST_DB_SUFFIX lets two checkouts run the suite against one server
 * at the same time without sharing databases.
 */
export function testDbName(name: string): string {
  return `${name}${process.env.TEST_DB_SUFFIX ?? ''}`;
}

export function testConfig(dbName: string, env: Record<string, string> = {}): AppConfig {
  return loadConfig({ ...TEST_ENV, DB_NAME: testDbName(dbName), ...env });
}

/** A plain mysql2 connection to a test file's database (to check what the service stored). */
export function connectTestDb(dbName: string): Promise<Connection> {
  return createConnection({
    host: TEST_ENV.DB_HOST,
    port: Number(TEST_ENV.DB_PORT),
    user: TEST_ENV.DB_USER,
    password: TEST_ENV.DB_PASSWORD,
    database: testDbName(dbName),
  });
}

/** Drops and recreates the test file's own database, so each file starts from nothing. */
export async function resetDatabase(dbName: string): Promise<void> {
  const conn = await createConnection({
    host: TEST_ENV.DB_HOST,
    port: Number(TEST_ENV.DB_PORT),
    user: TEST_ENV.DB_USER,
    password: TEST_ENV.DB_PASSWORD,
  });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${testDbName(dbName)}\``);
  } finally {
    await conn.end();
  }
}

/**
 * Starts the real application (Fastify, MySQL, the same global pipes, filter and guards as
 * production) on an ephemeral port. `fresh` recreates the database first; a second instance on
 * the same database passes `fresh: false`.
 */
export async function startTestApp(
  dbName: string,
  env: Record<string, string> = {},
  options: { fresh?: boolean; seed?: boolean; logDestination?: DestinationStream; directRoutes?: boolean } = {},
): Promise<TestApp> {
  if (options.fresh !== false) await resetDatabase(dbName);
  const config = testConfig(dbName, env);
  const app = await createApp(config, { seed: options.seed ?? false, logDestination: options.logDestination, directRoutes: options.directRoutes });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    app,
    config,
    dataSource: app.get(DataSource),
    url,
    http: () => request(url),
    close: () => app.close(),
  };
}

/** Log lines captured from an application started with `logDestination: logs.destination`. */
export function captureLogs(): {
  destination: DestinationStream;
  lines: Array<Record<string, unknown>>;
  events: (msg: string) => Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const destination: DestinationStream = {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  return { destination, lines, events: (msg) => lines.filter((l) => l.msg === msg) };
}
