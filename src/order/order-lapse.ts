import type { OrderStatus } from './order-status';

/**
 * The payment window's rule, in its two forms side by side (as the hold's lapse rule): an order
 * still stored as `pending` whose `expires_at` has passed is lapsed. It reads as `expired`, its
 * units count as available at once, and a payment for it comes too late, whether or not the expiry
 * job has marked it yet. test/lapse-rule.e2e-spec.ts checks that both forms agree row by row.
 */
export function isOrderLapsed(order: { status: OrderStatus; expiresAt: Date }, now: Date): boolean {
  return order.status === 'pending' && order.expiresAt.getTime() <= now.getTime();
}

/**
 * The SQL form of isOrderLapsed for the orders row named `alias`; `now` is its one parameter, a
 * `?` unless a named one (`:now`) is given.
 */
export function lapsedOrderSql(alias: string, now = '?'): string {
  return `${alias}.status = 'pending' AND ${alias}.expires_at <= ${now}`;
}

/** How an order reads at `now`: a lapsed order reads as expired. */
export function orderStatusAt(order: { status: OrderStatus; expiresAt: Date }, now: Date): OrderStatus {
  return isOrderLapsed(order, now) ? 'expired' : order.status;
}
