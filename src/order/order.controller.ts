import { Body, Controller, Get, HttpCode, Injectable, Param, PipeTransform, Post, Query } from '@nestjs/common';
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

@Controller('api/orders')
export class OrderController {
  constructor(private readonly orders: OrderService) {}

  @Post()
  @HttpCode(201)
  @Idempotent('orders')
  create(@Body() dto: CreateOrderDto, @IdempotencyClaimParam() claim?: IdempotencyClaim): Promise<OrderResponse> {
    return this.orders.create(dto, claim);
  }

  @Get()
  list(@Query(ListOrdersQueryPipe) query: ListOrdersQuery): Promise<OrderPage> {
    return this.orders.list(query);
  }

  @Get(':id')
  findOne(@Param('id', ParseIdPipe) id: number): Promise<OrderResponse> {
    return this.orders.findOne(id);
  }
}
