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
