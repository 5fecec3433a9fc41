import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  BuyerLimitReachedError,
  BuyerUnauthorizedError,
  HoldAlreadyUsedError,
  HoldExpiredError,
  HoldNotFoundError,
  IdempotencyKeyInFlightError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  InvalidSignatureError,
  ProductNotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
} from '../common/errors';
import { CreateHoldDto, parseCreateHold } from '../hold/dto/create-hold.dto';
import { HoldResponse } from '../hold/dto/hold.response';
import { ApiErrors, BODY_ERRORS, BUYER_SECURITY, IDEMPOTENCY_KEY, WEBHOOK_SECURITY } from '../http/openapi';
import { RateLimited } from '../http/rate-limit';
import { clientGone } from '../http/client-gone';
import { BuyerRoute, SignedWebhook } from '../http/route-auth';
import { IdempotencyGate, IdempotentScope } from '../idempotency/idempotency-gate';
import { CreateOrderDto, parseCreateOrder } from '../order/dto/create-order.dto';
import { OrderResponse } from '../order/dto/order.response';
import { PaymentWebhookDto, PRINTABLE_ASCII } from '../payment/dto/payment-webhook.dto';
import { WebhookResponse } from '../payment/dto/webhook.response';
import { PlaceHoldService } from './place-hold.service';
import { PlaceOrderService } from './place-order.service';
import { SettlePaymentService } from './settle-payment.service';

const IDEMPOTENCY_KEY_HEADER = {
  name: IDEMPOTENCY_KEY,
  required: false,
  description: '1..255 printable ASCII characters; a retry with the same key and body replays the first answer.',
  schema: { type: 'string', minLength: 1, maxLength: 255, pattern: PRINTABLE_ASCII.source },
};

/** The three steps of a sale: place a hold, turn it into an order, settle the order's payment. */
@ApiErrors(new ServiceUnavailableError())
@Controller('api')
export class CheckoutController {
  constructor(
    private readonly holds: PlaceHoldService,
    private readonly orders: PlaceOrderService,
    private readonly payments: SettlePaymentService,
    private readonly idempotency: IdempotencyGate,
  ) {}

  /**
   * The two hottest routes check their bodies with compiled checks (parseCreateHold,
   * parseCreateOrder: the DTO's rules, the same details) inside the Idempotency-Key gate, so a
   * field's 400 comes after the key's checks and is stored as the key's answer, as the contract
   * orders.
   */
  @Post('holds')
  @HttpCode(201)
  @BuyerRoute()
  @RateLimited('holds')
  @IdempotentScope('holds')
  @ApiTags('holds')
  @ApiBearerAuth(BUYER_SECURITY)
  @ApiHeader(IDEMPOTENCY_KEY_HEADER)
  @ApiBody({ type: CreateHoldDto })
  @ApiCreatedResponse({ type: HoldResponse })
  @ApiErrors(
    ...BODY_ERRORS,
    new BuyerUnauthorizedError(),
    new ProductNotFoundError(),
    new InsufficientStockError(3),
    new BuyerLimitReachedError(2, 2),
    new IdempotencyKeyInFlightError(),
    new IdempotencyKeyReusedError(),
    new RateLimitedError(),
  )
  placeHold(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    return this.idempotency.run('holds', req, reply, (claim) => this.holds.place(parseCreateHold(req.body), claim, clientGone(req), req.buyer ?? null));
  }

  @Post('orders')
  @HttpCode(201)
  @BuyerRoute()
  @RateLimited('holds')
  @IdempotentScope('orders')
  @ApiTags('orders')
  @ApiBearerAuth(BUYER_SECURITY)
  @ApiHeader(IDEMPOTENCY_KEY_HEADER)
  @ApiBody({ type: CreateOrderDto })
  @ApiCreatedResponse({ type: OrderResponse, description: 'pending, or already paid/cancelled when its payment arrived first.' })
  @ApiErrors(
    ...BODY_ERRORS,
    new HoldNotFoundError(),
    new HoldAlreadyUsedError(5),
    new IdempotencyKeyInFlightError(),
    new HoldExpiredError(),
    new IdempotencyKeyReusedError(),
    new BuyerUnauthorizedError(),
    new RateLimitedError(),
  )
  placeOrder(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    return this.idempotency.run('orders', req, reply, (claim) => this.orders.place(parseCreateOrder(req.body), claim, req.buyer ?? null));
  }

  /** The gateway's callback. 200 for applied/duplicate/ignored, 202 while the order does not exist. */
  @Post('payments/webhook')
  @SignedWebhook()
  @HttpCode(200)
  @ApiTags('payments')
  @ApiSecurity(WEBHOOK_SECURITY)
  @ApiOkResponse({ type: WebhookResponse, description: 'applied, duplicate or ignored.' })
  @ApiAcceptedResponse({ type: WebhookResponse, description: 'deferred: the order does not exist yet; the event is stored.' })
  @ApiErrors(...BODY_ERRORS, new InvalidSignatureError(), new IdempotencyKeyReusedError())
  async settlePayment(@Body() dto: PaymentWebhookDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookResponse> {
    const response = await this.payments.handleWebhook(dto);
    if (response.result === 'deferred') reply.status(202);
    return response;
  }
}
