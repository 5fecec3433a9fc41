import { PassThrough } from 'node:stream';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ProductNotFoundError, RateLimitedError, ServiceUnavailableError, ValidationFailedError } from '../common/errors';
import { ApiErrors, ApiIdParam } from '../http/openapi';
import { ParseIdPipe } from '../http/validation';
import { RateLimited } from '../http/rate-limit';
import { AvailabilityHubService } from './availability-hub.service';

const STREAM_EXAMPLE =
  'retry: 2000\nid: 1796045227661\nevent: availability\ndata: {"product_id":1,"stock":100,"available":98,"at":"2026-11-30T13:27:07.661Z"}\n\n';

@ApiTags('products')
@Controller('api/products')
export class AvailabilityStreamController {
  constructor(private readonly hub: AvailabilityHubService) {}

  /**
   * Opens a server-sent event stream of the product's availability. Everything that can fail
   * (bad id, unknown product, too many streams, database down) answers JSON before the stream starts.
   */
  @Get(':id/stream')
  @RateLimited('reads')
  @ApiIdParam()
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Sent by browsers when they reconnect; the stream starts with the current value whatever it says.',
    schema: { type: 'string' },
  })
  @ApiOkResponse({
    description:
      'text/event-stream: `event: availability` with `data: {"product_id","stock","available","at"}` at once, then after every change (at most 10 per second, the latest value winning); a comment line every 15 s.',
    content: { 'text/event-stream': { schema: { type: 'string', example: STREAM_EXAMPLE } } },
  })
  @ApiErrors(new ValidationFailedError([]), new ProductNotFoundError(), new RateLimitedError(), new ServiceUnavailableError())
  async stream(@Param('id', ParseIdPipe) id: number, @Res() reply: FastifyReply): Promise<void> {
    if (!this.hub.tryReserve()) throw new ServiceUnavailableError('Too many open streams on this instance; try again shortly.');
    let value;
    try {
      value = await this.hub.snapshot(id);
    } catch (err) {
      this.hub.cancelReservation();
      throw err;
    }
    const stream = new PassThrough();
    reply.header('Cache-Control', 'no-cache, no-transform').header('X-Accel-Buffering', 'no').type('text/event-stream; charset=utf-8').send(stream);
    if (reply.request.method === 'HEAD') {
      // The stream's status and headers, and no stream: no slot taken, no event written or counted.
      this.hub.cancelReservation();
      stream.end();
      return;
    }
    // A client that hangs up may leave its socket half-open, which the HTTP server would keep (and
    // the drain wait for) while the response is unfinished: once the stream is gone, so is the socket.
    stream.once('close', () => {
      if (!stream.writableFinished) reply.raw.destroy();
    });
    this.hub.attach(value, stream, (listener) => reply.raw.once('close', listener));
  }
}
