import { Readable } from 'node:stream';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppLogger } from './app-logger';
import { MetricsService } from './metrics.service';

/** The routes whose answer is a stream that only the service ends (the availability stream). */
const STREAMED_ROUTES = new Set(['/api/products/:id/stream']);

/** The route label of requests that matched no route: a fixed value, so bots cannot add series. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * Per answered request: counts it in the metrics and logs one `request` line with method, route
 * template, status, duration and request_id. Fastify's onResponse runs when the answer has been
 * sent in full; an answer streamed to a client that then hangs up (the availability stream, which
 * only the service ever ends) never finishes, so a streamed answer is also recorded when its
 * connection closes first: its status was sent, and its duration is the stream's.
 */
export function observeHttp(app: NestFastifyApplication, logger: AppLogger, metrics: MetricsService): void {
  const fastify = app.getHttpAdapter().getInstance();
  const record = (req: FastifyRequest, reply: FastifyReply): void => {
    const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequest(req.method, route, reply.statusCode, seconds);
    logger.pino.info(
      { method: req.method, route, status: reply.statusCode, duration_ms: Math.round(reply.elapsedTime * 100) / 100, request_id: req.id },
      'request',
    );
  };
  fastify.addHook('onResponse', (req, reply, done) => {
    record(req, reply);
    done();
  });
  // Only the routes that stream get the hook: an onSend hook on every route costs every answer.
  fastify.addHook('onRoute', (route) => {
    if (!STREAMED_ROUTES.has(route.url)) return;
    const recordOnClose = (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
      if (payload instanceof Readable) {
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) record(req, reply);
        });
      }
      done(null, payload);
    };
    route.onSend = [...[route.onSend ?? []].flat(), recordOnClose];
  });
}
