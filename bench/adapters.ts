/**
 * `npm run bench:adapters`: the same small Nest application (a cached product read through an
 * interceptor, and a validated JSON POST) served by the Express and by the Fastify adapter, each
 * measured with autocannon at 64 connections. No database: this isolates what the HTTP adapter
 * costs per request, which is what decides the adapter for the hot read path.
 */
import 'reflect-metadata';
import {
  Body,
  CallHandler,
  Controller,
  ExecutionContext,
  Get,
  HttpCode,
  Injectable,
  Module,
  NestInterceptor,
  Param,
  Post,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import autocannon from 'autocannon';
import { IsInt, Min } from 'class-validator';
import { Observable, of } from 'rxjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const PRODUCT = { id: 1, name: 'Limited sneaker', price: '99.00', stock: 100, available: 73 };

class HoldDto {
  @IsInt()
  @Min(1)
  product_id: number;

  @IsInt()
  @Min(1)
  qty: number;
}

@Injectable()
class CachedRead implements NestInterceptor {
  private readonly cache = new Map<string, unknown>([['1', PRODUCT]]);
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const hit = this.cache.get(context.switchToHttp().getRequest<{ params: { id: string } }>().params.id);
    return hit ? of(hit) : next.handle();
  }
}

@Controller()
class BenchController {
  @Get('api/products/:id')
  @UseInterceptors(CachedRead)
  read(@Param('id') id: string): unknown {
    return { ...PRODUCT, id: Number(id) };
  }

  @Post('api/holds')
  @HttpCode(201)
  hold(@Body() dto: HoldDto): unknown {
    return { id: 1, product_id: dto.product_id, qty: dto.qty, status: 'active' };
  }
}

@Module({ controllers: [BenchController], providers: [CachedRead] })
class BenchModule {}

async function measure(adapter: 'express' | 'fastify'): Promise<Array<{ route: string; rps: number; p99: number }>> {
  const app = await NestFactory.create(BenchModule, adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const out = [];
  for (const [route, opts] of [
    ['GET /api/products/:id', { url: `${url}/api/products/1` }],
    ['POST /api/holds', { url: `${url}/api/holds`, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"product_id":1,"qty":1}' }],
  ] as const) {
    await autocannon({ ...opts, connections: 64, duration: 2 });
    const r = await autocannon({ ...opts, connections: 64, duration: DURATION });
    out.push({ route, rps: Math.round(r.requests.average), p99: r.latency.p99 });
  }
  await app.close();
  return out;
}

async function main(): Promise<void> {
  const lines = ['| adapter | route | req/s | p99 ms |', '| --- | --- | ---: | ---: |'];
  for (const adapter of ['express', 'fastify'] as const) {
    for (const r of await measure(adapter)) lines.push(`| ${adapter} | ${r.route} | ${r.rps} | ${r.p99} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
