import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../common/all-exceptions.filter';
import { behindGuards, serveDirectly } from '../http/direct-route';
import { parseId } from '../http/validation';
import { ProductCacheService } from './cache/product-cache.service';
import { ProductController } from './product.controller';

const logger = new Logger('http');

/**
 * GET /api/products/:id, the route a drop's storefront polls hardest, answered straight from the
 * availability cache (serveDirectly) rather than through Nest's per-request machinery: an execution
 * context, the global guards (route auth and JSON body, which let this route through, and the rate
 * limit when limits are on), the global pipe and the id pipe, the response controller. That
 * machinery was about 4 µs of the 27 µs of CPU a cached read cost (README, "The framework's cost").
 *
 * The answer is the controller's, step for step: the global guards by what `findOne` declares
 * (behindGuards: no route auth, a public read; with rate limits on, the rate limit guard's own
 * check of its limit: 429 and its metric, a failing Redis letting through); the id parsed by the id pipe's own `parseId`; the body what `ProductController.findOne`
 * returns (`ProductCacheService.product`), sent by Fastify as Nest sends it; every error through
 * the exception filter's `sendError`. test/product-read.e2e-spec.ts holds the two to the same
 * answers.
 */
export function serveProductReadsDirectly(app: NestFastifyApplication): void {
  const cache = app.get(ProductCacheService);

  serveDirectly(
    app,
    'GET',
    '/api/products/:id',
    behindGuards(app, ProductController, 'findOne', function readProductDirectly(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): void {
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
    }),
  );
}
