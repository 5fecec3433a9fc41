import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppLogger } from './app-logger';
import { MetricsService } from './metrics.service';

/** The route label of requests that matched no route: a fixed value, so bots cannot add series. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * Per answered request: counts it in the metrics and logs one `request` line with method, route
 * template, status, duration and request_id.
 */
export function observeHttp(app: NestFastifyApplication, logger: AppLogger, metrics: MetricsService): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequest(req.method, route, reply.statusCode, seconds);
    logger.pino.info(
      { method: req.method, route, status: reply.statusCode, duration_ms: Math.round(reply.elapsedTime * 100) / 100, request_id: req.id },
      'request',
    );
    done();
  });
}
