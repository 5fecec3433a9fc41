import { Controller, Get, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';

@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** 200 while the database answers; 503 `unavailable` with Retry-After while it does not. */
  @Get()
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    try {
      await this.dataSource.query('SELECT 1');
      return { status: 'ok', db: 'up' };
    } catch {
      reply.status(503).header('Retry-After', '1');
      return { statusCode: 503, error: 'unavailable', message: 'The database cannot be reached.', db: 'down' };
    }
  }
}
