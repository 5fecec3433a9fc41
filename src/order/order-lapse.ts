import { lapseRule } from '../common/lapse-rule';
import type { OrderStatus } from './order-status';

/**
 * The payment window's lapse rule: an order still `pending` whose `expires_at` has passed is
 * lapsed. It reads as `expired`, its units count as available at once, and a payment for it comes
 * too late, whether or not the expiry job has marked it yet.
 */
const ORDER_LAPSE = lapseRule<OrderStatus>('pending');

export const isOrderLapsed = ORDER_LAPSE.isLapsed;
export const lapsedOrderSql = ORDER_LAPSE.sql;
export const lapsedOrderUnitsRead = (productId: number, now: Date, part: number, buyers?: string[]) =>
  ORDER_LAPSE.unitsRead('orders', productId, now, part, buyers);
export const orderStatusAt = (order: { status: OrderStatus; expiresAt: Date }, now: Date): OrderStatus => ORDER_LAPSE.statusAt(order, now);

/**
 * When the order's status last changed, as it reads at `now`. An expired order changed at its
 * `expires_at`, the instant its payment window closed: whether the expiry job or a late payment has
 * marked it yet or not, and whenever that was. Any other order changed at its stored `updated_at`.
 */
export const orderUpdatedAt = (order: { status: OrderStatus; expiresAt: Date; updatedAt: Date }, now: Date): Date =>
  orderStatusAt(order, now) === 'expired' ? order.expiresAt : order.updatedAt;
