import { OrderStatus } from './order.entity';

export type PaymentOutcome = 'success' | 'failure';

/**
 * The order state machine. Only a pending order moves, and only once: the first final state wins.
 * `stock` says what happens to the order's units: consumed (they leave `stock`) or released
 * (they return to `available`).
 */
export const ORDER_TRANSITIONS: Record<PaymentOutcome, { from: OrderStatus; to: OrderStatus; stock: 'consume' | 'release' }> = {
  success: { from: 'pending', to: 'paid', stock: 'consume' },
  failure: { from: 'pending', to: 'cancelled', stock: 'release' },
};

export function transitionFor(current: OrderStatus, outcome: PaymentOutcome) {
  const t = ORDER_TRANSITIONS[outcome];
  return t.from === current ? t : undefined;
}
