import { partTag, type SqlPart } from './sql-part';

/**
 * A lapse rule in its two forms side by side: a row still stored in its live status (`live`)
 * whose `expires_at` has passed is lapsed, and reads as `expired`, whether or not the expiry job
 * has marked it yet. Holds (live: `active`) and orders (live: `pending`, the payment window) each
 * define theirs with it; test/lapse-rule.e2e-spec.ts checks that both forms agree row by row.
 */
export function lapseRule<S extends string>(live: S) {
  const isLapsed = (row: { status: S | string; expiresAt: Date }, now: Date): boolean => row.status === live && row.expiresAt.getTime() <= now.getTime();
  const sql = (alias: string, now = '?'): string => `${alias}.status = '${live}' AND ${alias}.expires_at <= ${now}`;
  return {
    isLapsed,
    /** The SQL form for the row named `alias`; `now` is its one parameter, `?` unless a named one (`:now`) is given. */
    sql,
    /**
     * The locking read of a product's lapsed units in `table`, with SKIP LOCKED: a row another
     * transaction holds (being converted, paid or swept) is not counted, and the rows counted stay
     * locked until the caller's transaction ends. A part of the reservation's statement, under the
     * product's row lock; its rows are (`part`, `buyer`, `units`), `part` the caller's tag.
     *
     * Without `buyers`: one row, buyer NULL. With `buyers` (a batch's buyers): the same units split
     * by buyer, one row per buyer of the list that has lapsed rows locked here and one row (buyer
     * NULL) for everyone else, none when nothing has lapsed; add them all up for the total. The
     * per-buyer rows are what the per-buyer count takes off (see BuyerLimitService).
     */
    unitsRead: (table: 'holds' | 'orders', productId: number, now: Date, part: number, buyers: string[] = []): SqlPart => {
      const tag = partTag(part);
      const where = `WHERE t.product_id = ? AND ${sql('t')}`;
      return buyers.length === 0
        ? {
            sql: `SELECT ${tag} AS part, NULL AS buyer, COALESCE(SUM(t.qty), 0) AS units FROM ${table} t ${where} FOR UPDATE SKIP LOCKED`,
            params: [productId, now],
          }
        : {
            sql: `SELECT ${tag} AS part, IF(t.buyer IN (?), t.buyer, NULL) AS buyer, SUM(t.qty) AS units FROM ${table} t ${where} GROUP BY 2 FOR UPDATE SKIP LOCKED`,
            params: [buyers, productId, now],
          };
    },
    /** How a row reads at `now`: a lapsed one reads as expired. */
    statusAt: <T extends string>(row: { status: T; expiresAt: Date }, now: Date): T | 'expired' => (isLapsed(row, now) ? 'expired' : row.status),
  };
}
