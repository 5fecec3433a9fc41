import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { errorSchema } from '../http/openapi';

/** How long the database may take to answer the health ping. */
const PING_TIMEOUT_MS = 1000;

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
  ) {}

  /**
   * 200 `{ status: "ok", db: "up" }` while the database answers a ping within a second; 503
   * `unavailable` with `db: "down"` and Retry-After while it does not (terminus's own body is
   * mapped to the contract's).
   */
  @Get()
  @ApiOkResponse({
    description: 'The database answers.',
    schema: {
      type: 'object',
      required: ['status', 'db'],
      properties: { status: { type: 'string', enum: ['ok'] }, db: { type: 'string', enum: ['up'] } },
      example: { status: 'ok', db: 'up' },
    },
  })
  @ApiServiceUnavailableResponse({
    description: 'The database cannot be reached.',
    schema: {
      ...errorSchema(503, ['unavailable'], { db: { type: 'string', enum: ['down'] } }),
      example: { statusCode: 503, error: 'unavailable', message: 'The database cannot be reached.', db: 'down' },
    },
  })
  async check(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    try {
      await this.health.check([() => this.db.pingCheck('db', { timeout: PING_TIMEOUT_MS })]);
      return { status: 'ok', db: 'up' };
    } catch {
      reply.status(503).header('Retry-After', '1');
      return { statusCode: 503, error: 'unavailable', message: 'The database cannot be reached.', db: 'down' };
    }
  }
}
