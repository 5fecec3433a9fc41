import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';
import { ProductResponse } from './dto/product.response';
import { ProductService } from './product.service';

/**
 * The `product_available` and `product_stock` gauges, read from the database when /metrics is
 * scraped. One read serves both gauges of a scrape; while the database is down they are empty
 * rather than the scrape failing.
 */
@Injectable()
export class ProductMetrics implements OnModuleInit {
  private pendingRead: Promise<ProductResponse[]> | undefined;

  constructor(
    private readonly metrics: MetricsService,
    private readonly products: ProductService,
  ) {}

  onModuleInit(): void {
    const read = () => this.read();
    for (const [name, help, field] of [
      ['product_available', 'Units a new hold can take now.', 'available'],
      ['product_stock', 'Units the shop still owns (paid units have left).', 'stock'],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ['product_id'] as const,
        registers: [this.metrics.registry],
        async collect() {
          this.reset();
          for (const p of await read()) this.set({ product_id: String(p.id) }, p[field]);
        },
      });
    }
  }

  private read(): Promise<ProductResponse[]> {
    this.pendingRead ??= this.products
      .findAll()
      .catch(() => [])
      .finally(() => (this.pendingRead = undefined));
    return this.pendingRead;
  }
}
