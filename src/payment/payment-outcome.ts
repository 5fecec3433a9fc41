import type { FinalOrderStatus } from '../order/order-transitions';

/** What the gateway reports of a payment. */
export type PaymentOutcome = 'success' | 'failure';

/** The state a payment outcome moves a pending order to. */
export const ORDER_STATUS_AFTER: Record<PaymentOutcome, FinalOrderStatus> = {
  success: 'paid',
  failure: 'cancelled',
};
