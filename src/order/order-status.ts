/**
 * The states of an order: pending until its payment settles it, then paid or cancelled for good;
 * or expired, when no payment came within its payment window.
 */
export const ORDER_STATUSES = ['pending', 'paid', 'cancelled', 'expired'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
