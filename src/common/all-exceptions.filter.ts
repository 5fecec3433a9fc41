import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-response';

/** The one exception filter: every error of every route leaves as the contract's JSON body. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    sendError(reply, request, exception, this.logger);
  }
}

/**
 * Answers `exception` with the contract's error body (unknown errors: `internal_error`, stack
 * logged), decided with what the request itself says (toErrorResponse).
 */
export function sendError(reply: FastifyReply, request: FastifyRequest, exception: unknown, logger: Logger): void {
  const res = toErrorResponse(exception, request);
  if (res.unexpected) {
    const stack = exception instanceof Error ? exception.stack : String(exception);
    logger.error({ msg: 'request.failed', request_id: request.id, err: stack });
  }
  if (reply.sent) return;
  reply.status(res.status).headers(res.headers).type('application/json; charset=utf-8').send(res.body);
}
