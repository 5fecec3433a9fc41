import './node-version.guard';
import 'reflect-metadata';
import { DynamicModule } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from './app.factory';
import { AppConfig, ConfigError } from './config/config';
import { AppConfigModule } from './config/config.module';
import { AppLogger } from './observability/app-logger';

/** How long a graceful stop may take before the process gives up and exits 1. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** The validated configuration, or one line on stderr naming the bad variable and exit 1. */
async function readConfig(): Promise<{ module: DynamicModule; config: AppConfig }> {
  try {
    return await AppConfigModule.fromEnvironment();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * SIGTERM / SIGINT: stop accepting connections, let the requests in flight finish (new ones on
 * open connections are still served, each answer closing its connection), then stop the cron
 * jobs, close the pool and Redis, flush the log and exit 0. Nothing that answered 201 is rolled
 * back: its transaction had committed.
 */
function stopOnSignals(app: NestFastifyApplication, logger: AppLogger): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.log({ msg: 'service.stopping', signal }, 'main');
    setTimeout(() => {
      logger.error({ msg: 'service.stop_timeout', timeout_ms: SHUTDOWN_TIMEOUT_MS }, undefined, 'main');
      logger.pino.flush();
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    // Connections that finish their last request after the stop began would otherwise sit idle
    // in keep-alive and hold the listener open: close each as soon as it is idle.
    const server = app.getHttpServer();
    const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
    try {
      await app.close();
      clearInterval(closeIdle);
      logger.log({ msg: 'service.stopped' }, 'main');
      await logger.flush();
      process.exit(0);
    } catch (err) {
      logger.error({ msg: 'service.stop_failed', err: err instanceof Error ? err.message : String(err) }, undefined, 'main');
      await logger.flush();
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

async function bootstrap(): Promise<void> {
  const { module, config } = await readConfig();
  const logger = new AppLogger(config.logLevel);
  const app = await createApp(config, { logger, configModule: module });
  stopOnSignals(app, logger);
  // A drop opens with thousands of connections in the same second: queue them rather than drop SYNs.
  await app.listen({ port: config.port, host: '0.0.0.0', backlog: 4096 });
  logger.log({ msg: 'service.listening', port: config.port }, 'main');
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
