import 'reflect-metadata';
import { Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { serveDirectly } from './direct-route';

@Controller('api')
class PingController {
  @Get('ping')
  ping(): { by: string } {
    return { by: 'nest' };
  }

  @Post('ping')
  postPing(): { by: string } {
    return { by: 'nest' };
  }
}

@Module({ controllers: [PingController] })
class PingModule {}

async function app(): Promise<NestFastifyApplication> {
  return NestFactory.create<NestFastifyApplication>(PingModule, new FastifyAdapter(), { logger: false, abortOnError: false });
}

describe('serveDirectly', () => {
  it("answers the route with the direct handler, leaves the route's other methods to Nest, and keeps HEAD", async () => {
    const a = await app();
    serveDirectly(a, 'GET', '/api/ping', (_req, reply) => void reply.send({ by: 'direct' }));
    await a.init();
    await a.getHttpAdapter().getInstance().ready();
    try {
      const fastify = a.getHttpAdapter().getInstance();
      expect((await fastify.inject({ method: 'GET', url: '/api/ping' })).json()).toEqual({ by: 'direct' });
      expect((await fastify.inject({ method: 'POST', url: '/api/ping' })).json()).toEqual({ by: 'nest' });
      expect((await fastify.inject({ method: 'HEAD', url: '/api/ping' })).statusCode).toBe(200);
    } finally {
      await a.close();
    }
  });

  it('refuses to start when the route it should serve does not exist', async () => {
    const a = await app();
    serveDirectly(a, 'GET', '/api/pong', (_req, reply) => void reply.send({ by: 'direct' }));
    try {
      await a.init();
      await expect(a.getHttpAdapter().getInstance().ready()).rejects.toThrow('GET /api/pong was not found, so it cannot be served directly');
    } finally {
      await a.close().catch(() => undefined);
    }
  });
});
