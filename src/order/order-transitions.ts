import { OrderStatus } from './order-status';

/** The states an order can end in. */
export type FinalOrderStatus = 'paid' | 'cancelled' | 'expired';

export interface OrderTransition {
  from: OrderStatus;
  to: FinalOrderStatus;
  /** What happens to the order's units: consumed (they leave `stock`) or released (available again). */
  stock: 'consume' | 'release';
}

/** The order state machine. Only a pending order moves, and only once: the first final state wins. */
export const ORDER_TRANSITIONS: Record<FinalOrderStatus, OrderTransition> = {
  paid: { from: 'pending', to: 'paid', stock: 'consume' },
  cancelled: { from: 'pending', to: 'cancelled', stock: 'release' },
  // No payment within the window: the units return to the sale (a late payment then owes a refund).
  expired: { from: 'pending', to: 'expired', stock: 'release' },
};

/** The transition that takes an order in `current` to `target`, or undefined when none does. */
export function transitionTo(current: OrderStatus, target: FinalOrderStatus): OrderTransition | undefined {
  const t = ORDER_TRANSITIONS[target];
  return t.from === current ? t : undefined;
}
