import { lapseRule } from '../common/lapse-rule';
import type { HoldStatus } from './hold.entity';

/**
 * The hold's lapse rule: a hold still `active` whose `expires_at` has passed is lapsed. Its units
 * are free at once (for every read and every new hold), it can no longer become an order, and it
 * reads as `expired`, whether or not the expiry job has marked it yet.
 */
const HOLD_LAPSE = lapseRule<HoldStatus>('active');

export const isLapsed = HOLD_LAPSE.isLapsed;
export const lapsedHoldSql = HOLD_LAPSE.sql;
export const lapsedHoldUnitsRead = (productId: number, now: Date, part: number, buyers?: string[]) =>
  HOLD_LAPSE.unitsRead('holds', productId, now, part, buyers);
export const holdStatusAt = (hold: { status: HoldStatus; expiresAt: Date }, now: Date): HoldStatus => HOLD_LAPSE.statusAt(hold, now);
