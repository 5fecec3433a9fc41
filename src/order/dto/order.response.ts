import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { normalizeMoney } from '../../common/money';
import { MAX_HOLD_QTY_LIMIT } from '../../config/config';
import { ID_SCHEMA, MONEY_SCHEMA, TIME_SCHEMA } from '../../http/openapi';
import { ORDER_STATUSES, OrderStatus } from '../order-status';
import type { Order } from '../order.entity';

/** unit_price × qty: DECIMAL(16,2), up to 10 + 4 integer digits (qty is at most 1000). */
const TOTAL_SCHEMA = { type: 'string', pattern: '^\\d{1,14}\\.\\d{2}$' } as const;

export class OrderProduct {
  @ApiProperty({ ...ID_SCHEMA, example: 1 })
  id: number;

  @ApiProperty({ example: 'Limited sneaker', minLength: 1, maxLength: 200 })
  name: string;
}

export class OrderResponse {
  @ApiProperty({ ...ID_SCHEMA, example: 5 })
  id: number;

  @ApiProperty({ ...ID_SCHEMA, example: 17 })
  hold_id: number;

  @ApiProperty({ ...ID_SCHEMA, example: 1 })
  product_id: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_HOLD_QTY_LIMIT, example: 2 })
  qty: number;

  @ApiProperty({ ...MONEY_SCHEMA, example: '99.00' })
  unit_price: string;

  @ApiProperty({ ...TOTAL_SCHEMA, example: '198.00' })
  total: string;

  @ApiProperty({ enum: ORDER_STATUSES, example: 'pending' })
  status: OrderStatus;

  @ApiProperty({ ...TIME_SCHEMA, example: '2026-11-23T10:00:05.000Z' })
  created_at: string;

  @ApiProperty({ ...TIME_SCHEMA, example: '2026-11-23T10:00:05.000Z' })
  updated_at: string;

  @ApiPropertyOptional({ type: OrderProduct, description: 'On GET /api/orders/:id and in listings.' })
  product?: OrderProduct;
}

export function toOrderResponse(order: Order, product?: { id: number; name: string }): OrderResponse {
  const res: OrderResponse = {
    id: order.id,
    hold_id: order.holdId,
    product_id: order.productId,
    qty: order.qty,
    unit_price: normalizeMoney(order.unitPrice),
    total: normalizeMoney(order.total),
    status: order.status,
    created_at: order.createdAt.toISOString(),
    updated_at: order.updatedAt.toISOString(),
  };
  if (product) res.product = { id: Number(product.id), name: product.name };
  return res;
}

export class OrderPage {
  @ApiProperty({ type: [OrderResponse] })
  data: OrderResponse[];

  /** The cursor of the next page (`after_id`), or null when no order follows this page. */
  @ApiProperty({ ...ID_SCHEMA, nullable: true, example: 55 })
  next_after_id: number | null;
}

/** A row of the listing query: the order's columns and its product's name. */
export interface OrderListRow {
  id: number | string;
  hold_id: number | string;
  product_id: number | string;
  qty: number | string;
  unit_price: string;
  total: string;
  status: OrderStatus;
  created_at: Date;
  updated_at: Date;
  product_name: string;
}

export function orderListItem(row: OrderListRow): OrderResponse {
  const order = {
    id: Number(row.id),
    holdId: Number(row.hold_id),
    productId: Number(row.product_id),
    qty: Number(row.qty),
    unitPrice: row.unit_price,
    total: row.total,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  return toOrderResponse(order, { id: order.productId, name: row.product_name });
}
