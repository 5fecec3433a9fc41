import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { IdempotencyKeyReusedError, InvalidSignatureError, ServiceUnavailableError } from '../common/errors';
import { ApiErrors, BODY_ERRORS } from '../common/openapi';
import { SignedWebhook } from '../common/route-auth';
import { PaymentWebhookDto } from './dto/payment-webhook.dto';
import { WebhookResponse } from './dto/webhook.response';
import { PaymentService } from './payment.service';

@ApiTags('payments')
@ApiErrors(new ServiceUnavailableError())
@Controller('api/payments')
export class PaymentController {
  constructor(private readonly payments: PaymentService) {}

  /** The gateway's callback. 200 for applied/duplicate/ignored, 202 while the order does not exist. */
  @Post('webhook')
  @SignedWebhook()
  @HttpCode(200)
  @ApiHeader({ name: 'X-Signature', required: true, description: 'sha256=<hex HMAC-SHA256 of the raw body with WEBHOOK_SECRET>' })
  @ApiOkResponse({ type: WebhookResponse, description: 'applied, duplicate or ignored.' })
  @ApiAcceptedResponse({ type: WebhookResponse, description: 'deferred: the order does not exist yet; the event is stored.' })
  @ApiErrors(...BODY_ERRORS, new InvalidSignatureError(), new IdempotencyKeyReusedError())
  async webhook(@Body() dto: PaymentWebhookDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookResponse> {
    const response = await this.payments.handleWebhook(dto);
    if (response.result === 'deferred') reply.status(202);
    return response;
  }
}
