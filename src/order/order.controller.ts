import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ParseIdPipe } from '../common/validation';
import { CreateOrderDto } from './dto/create-order.dto';
import { OrderResponse } from './dto/order.response';
import { OrderService } from './order.service';

@Controller('api/orders')
export class OrderController {
  constructor(private readonly orders: OrderService) {}

  @Post()
  @HttpCode(201)
  create(@Body() dto: CreateOrderDto): Promise<OrderResponse> {
    return this.orders.create(dto);
  }

  @Get(':id')
  findOne(@Param('id', ParseIdPipe) id: number): Promise<OrderResponse> {
    return this.orders.findOne(id);
  }
}
