import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { normalizeMoney } from '../../common/money';
import { MAX_HOLD_QTY_LIMIT } from '../../config/config';
import { BUYER_SCHEMA, ID_SCHEMA, MONEY_SCHEMA, TIME_SCHEMA } from '../../http/openapi';
import { ORDER_STATUSES, OrderStatus } from '../order-status';
import type { Order } from '../order.entity';
import { orderStatusAt, orderUpdatedAt } from '../order-lapse';

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

  @ApiProperty({ enum: ORDER_STATUSES, example: 'pending', description: 'A pending order past expires_at reads as expired.' })
  status: OrderStatus;

  @ApiProperty({ ...TIME_SCHEMA, example: '2026-11-23T10:15:05.000Z', description: 'The payment deadline (ORDER_PAYMENT_TTL_SECONDS after creation).' })
  expires_at: string;

  @ApiProperty({ type: 'boolean', example: false, description: 'A payment arrived after the deadline: the money was taken, the units are gone.' })
  refund_due: boolean;

  @ApiProperty({ ...TIME_SCHEMA, example: '2026-11-23T10:00:05.000Z' })
  created_at: string;

  @ApiProperty({
    ...TIME_SCHEMA,
    example: '2026-11-23T10:00:05.000Z',
    description: 'When status last changed (created_at until then); an expired order changed at its expires_at.',
  })
  updated_at: string;

  @ApiProperty({ ...BUYER_SCHEMA, nullable: true, example: 'user-8f3a', description: "The buyer of its hold (the token's sub); null when BUYER_AUTH=off." })
  buyer: string | null;

  @ApiPropertyOptional({ type: OrderProduct, description: 'On GET /api/orders/:id and in listings.' })
  product?: OrderProduct;
}

export function toOrderResponse(order: Order, product?: { id: number; name: string }, now = new Date()): OrderResponse {
  const res: OrderResponse = {
    id: order.id,
    hold_id: order.holdId,
    product_id: order.productId,
    qty: order.qty,
    unit_price: normalizeMoney(order.unitPrice),
    total: normalizeMoney(order.total),
    status: orderStatusAt(order, now),
    expires_at: order.expiresAt.toISOString(),
    refund_due: Boolean(order.refundDue),
    created_at: order.createdAt.toISOString(),
    updated_at: orderUpdatedAt(order, now).toISOString(),
    buyer: order.buyer ?? null,
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
  expires_at: Date;
  refund_due: number | boolean;
  created_at: Date;
  updated_at: Date;
  buyer: string | null;
  product_name: string;
}

export function orderListItem(row: OrderListRow, now = new Date()): OrderResponse {
  const order = {
    id: Number(row.id),
    holdId: Number(row.hold_id),
    productId: Number(row.product_id),
    qty: Number(row.qty),
    unitPrice: row.unit_price,
    total: row.total,
    status: row.status,
    expiresAt: row.expires_at,
    refundDue: Boolean(Number(row.refund_due)),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    buyer: row.buyer,
  };
  return toOrderResponse(order, { id: order.productId, name: row.product_name }, now);
}
