/** The states of an order: pending until its payment settles it, then paid or cancelled for good. */
export const ORDER_STATUSES = ['pending', 'paid', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
