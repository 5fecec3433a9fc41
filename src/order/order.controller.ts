import { Controller, Get, Injectable, Param, PipeTransform, Query } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { OrderNotFoundError, ServiceUnavailableError, ValidationFailedError } from '../common/errors';
import { ApiErrors } from '../http/openapi';
import { ParseIdPipe } from '../http/validation';
import { ListOrdersQuery, parseListOrdersQuery } from './dto/list-orders.query';
import { OrderPage, OrderResponse } from './dto/order.response';
import { OrderService } from './order.service';

@Injectable()
class ListOrdersQueryPipe implements PipeTransform<Record<string, unknown>, ListOrdersQuery> {
  transform(query: Record<string, unknown>): ListOrdersQuery {
    return parseListOrdersQuery(query ?? {});
  }
}

/** Reading orders. Orders are placed through POST /api/orders (src/checkout). */
@ApiTags('orders')
@ApiErrors(new ServiceUnavailableError())
@Controller('api/orders')
export class OrderController {
  constructor(private readonly orders: OrderService) {}

  @Get()
  @ApiQuery({ name: 'status', required: false, enum: ['pending', 'paid', 'cancelled'] })
  @ApiQuery({ name: 'product_id', required: false, type: Number })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1..200, default 50' })
  @ApiQuery({ name: 'after_id', required: false, type: Number, description: "keyset cursor: the previous page's next_after_id" })
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
