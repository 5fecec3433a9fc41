import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SignedWebhook } from '../common/route-auth';
import { PaymentWebhookDto } from './dto/payment-webhook.dto';
import { WebhookResponse } from './dto/webhook.response';
import { PaymentService } from './payment.service';

@Controller('api/payments')
export class PaymentController {
  constructor(private readonly payments: PaymentService) {}

  /** The gateway's callback. 200 for applied/duplicate/ignored, 202 while the order does not exist. */
  @Post('webhook')
  @SignedWebhook()
  @HttpCode(200)
  async webhook(@Body() dto: PaymentWebhookDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookResponse> {
    const response = await this.payments.handleWebhook(dto);
    if (response.result === 'deferred') reply.status(202);
    return response;
  }
}
