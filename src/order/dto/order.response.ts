import { normalizeMoney } from '../../common/money';
import { Order, OrderStatus } from '../order.entity';

export interface OrderResponse {
  id: number;
  hold_id: number;
  product_id: number;
  qty: number;
  unit_price: string;
  total: string;
  status: OrderStatus;
  created_at: string;
  updated_at: string;
  product?: { id: number; name: string };
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

export interface OrderPage {
  data: OrderResponse[];
  /** The cursor of the next page (`after_id`), or null when no order follows this page. */
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
  } as Order;
  return toOrderResponse(order, { id: order.productId, name: row.product_name });
}
