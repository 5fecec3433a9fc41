import { Body, Controller, Get, HttpCode, Injectable, Param, PipeTransform, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  HoldAlreadyUsedError,
  HoldExpiredError,
  HoldNotFoundError,
  IdempotencyKeyInFlightError,
  IdempotencyKeyReusedError,
  OrderNotFoundError,
  ServiceUnavailableError,
  ValidationFailedError,
} from '../common/errors';
import { ApiErrors, BODY_ERRORS } from '../common/openapi';
import { Idempotent, IdempotencyClaimParam } from '../common/idempotency/idempotency.interceptor';
import { IdempotencyClaim } from '../common/idempotency/idempotency.service';
import { ParseIdPipe } from '../common/validation';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersQuery, parseListOrdersQuery } from './dto/list-orders.query';
import { OrderPage, OrderResponse } from './dto/order.response';
import { OrderService } from './order.service';

@Injectable()
class ListOrdersQueryPipe implements PipeTransform<Record<string, unknown>, ListOrdersQuery> {
  transform(query: Record<string, unknown>): ListOrdersQuery {
    return parseListOrdersQuery(query ?? {});
  }
}

@ApiTags('orders')
@ApiErrors(new ServiceUnavailableError())
@Controller('api/orders')
export class OrderController {
  constructor(private readonly orders: OrderService) {}

  @Post()
  @HttpCode(201)
  @Idempotent('orders')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1..255 printable ASCII characters; a retry with the same key and body replays the first answer.' })
  @ApiCreatedResponse({ type: OrderResponse, description: 'pending, or already paid/cancelled when its payment arrived first.' })
  @ApiErrors(
    ...BODY_ERRORS,
    new HoldNotFoundError(),
    new HoldAlreadyUsedError(5),
    new IdempotencyKeyInFlightError(),
    new HoldExpiredError(),
    new IdempotencyKeyReusedError(),
  )
  create(@Body() dto: CreateOrderDto, @IdempotencyClaimParam() claim?: IdempotencyClaim): Promise<OrderResponse> {
    return this.orders.create(dto, claim);
  }

  @Get()
  @ApiQuery({ name: 'status', required: false, enum: ['pending', 'paid', 'cancelled'] })
  @ApiQuery({ name: 'product_id', required: false, type: Number })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1..200, default 50' })
  @ApiQuery({ name: 'after_id', required: false, type: Number, description: 'keyset cursor: the previous page\'s next_after_id' })
  @ApiOkResponse({ type: OrderPage })
  @ApiErrors(new ValidationFailedError([]))
  list(@Query(ListOrdersQueryPipe) query: ListOrdersQuery): Promise<OrderPage> {
    return this.orders.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderResponse })
  @ApiErrors(new ValidationFailedError([]), new OrderNotFoundError())
  findOne(@Param('id', ParseIdPipe) id: number): Promise<OrderResponse> {
    return this.orders.findOne(id);
  }
}
