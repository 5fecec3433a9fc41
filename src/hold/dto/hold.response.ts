import { Hold, HoldStatus } from '../hold.entity';

export interface HoldResponse {
  id: number;
  product_id: number;
  qty: number;
  status: HoldStatus;
  expires_at: string;
  created_at: string;
}

/** A hold past `expires_at` reads as expired even before the expiry job has marked it. */
export function effectiveHoldStatus(status: HoldStatus, expiresAt: Date, now: Date): HoldStatus {
  return status === 'active' && expiresAt.getTime() <= now.getTime() ? 'expired' : status;
}

export function toHoldResponse(hold: Hold, now = new Date()): HoldResponse {
  return {
    id: hold.id,
    product_id: hold.productId,
    qty: hold.qty,
    status: effectiveHoldStatus(hold.status, hold.expiresAt, now),
    expires_at: hold.expiresAt.toISOString(),
    created_at: hold.createdAt.toISOString(),
  };
}
