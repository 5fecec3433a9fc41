import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /** Prometheus text format. */
  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text format: HTTP, holds, orders, webhooks, retries, row-lock waits, product gauges, process.',
    schema: { type: 'string' },
  })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
