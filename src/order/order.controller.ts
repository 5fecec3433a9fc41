import { Controller, Get, Injectable, Param, PipeTransform, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  AdminDisabledError,
  BuyerUnauthorizedError,
  OrderNotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  ValidationFailedError,
} from '../common/errors';
import { BuyerParam } from '../http/buyer-token';
import { ADMIN_SECURITY, ApiErrors, ApiIdParam, BUYER_SCHEMA, BUYER_SECURITY, ID_SCHEMA } from '../http/openapi';
import { RateLimited } from '../http/rate-limit';
import { BuyerRoute, OperatorListing } from '../http/route-auth';
import { MAX_ID, ParseIdPipe } from '../http/validation';
import { DEFAULT_PAGE_SIZE, ListOrdersQuery, MAX_PAGE_SIZE, parseListOrdersQuery } from './dto/list-orders.query';
import { ORDER_STATUSES } from './order-status';
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
  @OperatorListing()
  @RateLimited('reads')
  @ApiBearerAuth(ADMIN_SECURITY)
  // Each parameter at most once, plain decimal digits; anything else is 400 (parseListOrdersQuery).
  @ApiQuery({
    name: 'status',
    required: false,
    schema: { type: 'string', enum: [...ORDER_STATUSES] },
    description: 'pending: only orders still inside their payment window; expired: also pending orders past it.',
  })
  @ApiQuery({ name: 'refund_due', required: false, schema: { type: 'boolean' }, description: 'true or false' })
  @ApiQuery({ name: 'product_id', required: false, schema: { ...ID_SCHEMA } })
  @ApiQuery({ name: 'buyer', required: false, schema: { ...BUYER_SCHEMA }, description: "one buyer's orders (a buyer token's sub)" })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } })
  @ApiQuery({
    name: 'after_id',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: MAX_ID, default: 0 },
    description: "keyset cursor: the previous page's next_after_id",
  })
  @ApiOkResponse({
    type: OrderPage,
    description: "Every buyer's orders: with BUYER_AUTH=jwt only for the admin token (401, 403), open to all with BUYER_AUTH=off.",
  })
  @ApiErrors(new ValidationFailedError([]), new UnauthorizedError(), new AdminDisabledError(), new RateLimitedError())
  list(@Query(ListOrdersQueryPipe) query: ListOrdersQuery): Promise<OrderPage> {
    return this.orders.list(query);
  }

  @Get(':id')
  @BuyerRoute()
  @RateLimited('reads')
  @ApiIdParam()
  @ApiBearerAuth(BUYER_SECURITY)
  @ApiOkResponse({ type: OrderResponse, description: "Another buyer's order is 404." })
  @ApiErrors(new ValidationFailedError([]), new BuyerUnauthorizedError(), new OrderNotFoundError(), new RateLimitedError())
  findOne(@Param('id', ParseIdPipe) id: number, @BuyerParam() buyer: string | null): Promise<OrderResponse> {
    return this.orders.findOne(id, buyer);
  }
}
