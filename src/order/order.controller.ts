import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { Idempotent, IdempotencyClaimParam } from '../common/idempotency/idempotency.interceptor';
import { IdempotencyClaim } from '../common/idempotency/idempotency.service';
import { ParseIdPipe } from '../common/validation';
import { CreateOrderDto } from './dto/create-order.dto';
import { OrderResponse } from './dto/order.response';
import { OrderService } from './order.service';

@Controller('api/orders')
export class OrderController {
  constructor(private readonly orders: OrderService) {}

  @Post()
  @HttpCode(201)
  @Idempotent('orders')
  create(@Body() dto: CreateOrderDto, @IdempotencyClaimParam() claim?: IdempotencyClaim): Promise<OrderResponse> {
    return this.orders.create(dto, claim);
  }

  @Get(':id')
  findOne(@Param('id', ParseIdPipe) id: number): Promise<OrderResponse> {
    return this.orders.findOne(id);
  }
}
