/**
 * Why a product's `stock` or `reserved` moved. Each kind has fixed signs (stock, reserved):
 * - `opening` (+s, +r): the figures a product started with (created, seeded, or existing when the ledger came).
 * - `restock` (+n, 0): an admin added units.
 * - `hold` (0, +q): a hold was granted.
 * - `hold_lapsed` (0, −q): the expiry job marked a lapsed hold expired.
 * - `hold_abandoned` (0, −q): a hold granted to a client that had left was ended at once.
 * - `order` (0, 0): a hold became a pending order; its units pass from the hold to the order.
 * - `sale` (−q, −q): a payment succeeded; the units left the shop.
 * - `cancel` (0, −q): a payment failed; the order was cancelled.
 * - `order_expired` (0, −q): a pending order's payment window closed (the expiry job, or a late payment).
 */
export const MOVEMENT_KINDS = ['opening', 'restock', 'hold', 'hold_lapsed', 'hold_abandoned', 'order', 'sale', 'cancel', 'order_expired'] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];
