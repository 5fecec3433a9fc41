/**
 * A lapse rule in its two forms side by side: a row still stored in its live status (`live`)
 * whose `expires_at` has passed is lapsed, and reads as `expired`, whether or not the expiry job
 * has marked it yet. Holds (live: `active`) and orders (live: `pending`, the payment window) each
 * define theirs with it; test/lapse-rule.e2e-spec.ts checks that both forms agree row by row.
 */
export function lapseRule<S extends string>(live: S) {
  const isLapsed = (row: { status: S | string; expiresAt: Date }, now: Date): boolean => row.status === live && row.expiresAt.getTime() <= now.getTime();
  return {
    isLapsed,
    /** The SQL form for the row named `alias`; `now` is its one parameter, `?` unless a named one (`:now`) is given. */
    sql: (alias: string, now = '?'): string => `${alias}.status = '${live}' AND ${alias}.expires_at <= ${now}`,
    /** How a row reads at `now`: a lapsed one reads as expired. */
    statusAt: <T extends string>(row: { status: T; expiresAt: Date }, now: Date): T | 'expired' => (isLapsed(row, now) ? 'expired' : row.status),
  };
}
