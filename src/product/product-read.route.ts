import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { sendError } from '../common/all-exceptions.filter';
import { parseId } from '../http/validation';
import { ProductCacheService } from './cache/product-cache.service';

/** The product read's route as Fastify knows it (ProductController.findOne). */
export const PRODUCT_READ_URL = '/api/products/:id';

const logger = new Logger('http');

/**
 * GET /api/products/:id, the route a drop's storefront polls hardest, answered straight from the
 * availability cache rather than through Nest's per-request machinery: an execution context, the
 * global guards (route auth and JSON body; the rate limits' is not installed), which all let this
 * route through, the global pipe and the id pipe, the response controller. That machinery was about 4 µs of the 27 µs of CPU a cached read cost
 * (README, "The framework's cost").
 *
 * The answer is the controller's, step for step: the id is parsed by the id pipe's own `parseId`,
 * the body is what `ProductController.findOne` returns (`ProductCacheService.product`), sent by
 * Fastify as Nest sends it, and every error leaves through the exception filter's `sendError`.
 * The route stays Nest's (the OpenAPI document, HEAD, the request-id, metrics and log hooks); only
 * its GET handler is swapped. A test holds the two to the same answers.
 *
 * Call before the routes are registered (`app.init()`). Not for a service with rate limits on:
 * there a read must pass RateLimitGuard, so the Nest handler stays. The app refuses to start if
 * the route was not found, so a renamed route cannot quietly fall back to the slower path.
 */
export function serveProductReadsDirectly(app: NestFastifyApplication): void {
  const cache = app.get(ProductCacheService);
  const fastify = app.getHttpAdapter().getInstance();
  let served = false;
  // A plain callback handler (not async): an async one returning `reply` would make the promise
  // adopt the reply's `then`, which waits for the response stream to finish.
  const handler = (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): void => {
    let id: number;
    try {
      id = parseId(req.params.id, 'id');
    } catch (err) {
      sendError(reply, req, err, logger);
      return;
    }
    cache
      .product(id)
      .then((product) => reply.send(product))
      .catch((err: unknown) => sendError(reply, req, err, logger));
  };
  fastify.addHook('onRoute', (route) => {
    if (route.url !== PRODUCT_READ_URL || route.method !== 'GET') return;
    route.handler = handler as RouteHandlerMethod;
    served = true;
  });
  fastify.addHook('onReady', (done) => {
    done(served ? undefined : new Error(`GET ${PRODUCT_READ_URL} was not found, so it cannot be served directly`));
  });
}
