import type { HoldStatus } from './hold.entity';

/**
 * The lapse rule, in its two forms side by side: a hold still stored as `active` whose
 * `expires_at` has passed is lapsed. Its units are free at once (for every read and every new
 * hold), it can no longer become an order, and it reads as `expired`, whether or not the expiry job
 * has marked it yet. test/lapse-rule.e2e-spec.ts checks that both forms agree row by row.
 */
export function isLapsed(hold: { status: HoldStatus; expiresAt: Date }, now: Date): boolean {
  return hold.status === 'active' && hold.expiresAt.getTime() <= now.getTime();
}

/**
 * The SQL form of isLapsed for the holds row named `alias`; `now` is its one parameter, a `?`
 * unless a named one (`:now`) is given.
 */
export function lapsedHoldSql(alias: string, now = '?'): string {
  return `${alias}.status = 'active' AND ${alias}.expires_at <= ${now}`;
}

/** How a hold reads at `now`: a lapsed hold reads as expired. */
export function holdStatusAt(hold: { status: HoldStatus; expiresAt: Date }, now: Date): HoldStatus {
  return isLapsed(hold, now) ? 'expired' : hold.status;
}
