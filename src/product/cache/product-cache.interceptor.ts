import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { from, lastValueFrom, Observable } from 'rxjs';
import { parseListProductsQuery } from '../dto/list-products.query';
import { ProductCacheService } from './product-cache.service';

const ID = /^[1-9]\d{0,15}$/;

/**
 * Serves `GET /api/products` and `GET /api/products/:id` from the short availability cache.
 * Keys are the product id (or the list's page: `after_id` and `limit`), never the raw URL, so the refresh after a stock change
 * hits the very entry reads use. A path id the route will refuse is passed through uncached, and
 * errors (404, 503) are never cached.
 */
@Injectable()
export class ProductCacheInterceptor implements NestInterceptor {
  constructor(private readonly cache: ProductCacheService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.cache.enabled) return next.handle();
    const req = context.switchToHttp().getRequest<FastifyRequest<{ Params: { id?: string }; Querystring: Record<string, unknown> }>>();
    const rawId = req.params.id;
    let key: string;
    if (rawId === undefined) {
      let query;
      try {
        query = parseListProductsQuery(req.query ?? {});
      } catch {
        return next.handle(); // the route's pipe refuses it
      }
      key = this.cache.pageKey(query);
    } else if (ID.test(rawId) && Number.isSafeInteger(Number(rawId))) key = this.cache.productKey(Number(rawId));
    else return next.handle();
    return from(this.cache.read(key, () => lastValueFrom(next.handle())));
  }
}
