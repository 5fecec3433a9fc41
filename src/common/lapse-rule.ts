import type { SqlPart } from './sql-part';

/**
 * A lapse rule in its two forms side by side: a row still stored in its live status (`live`)
 * whose `expires_at` has passed is lapsed, and reads as `expired`, whether or not the expiry job
 * has marked it yet. Holds (live: `active`) and orders (live: `pending`, the payment window) each
 * define theirs with it; test/lapse-rule.e2e-spec.ts checks that both forms agree row by row.
 */
export function lapseRule<S extends string>(live: S) {
  const isLapsed = (row: { status: S | string; expiresAt: Date }, now: Date): boolean => row.status === live && row.expiresAt.getTime() <= now.getTime();
  const sql = (alias: string, now = '?'): string => `${alias}.status = '${live}' AND ${alias}.expires_at <= ${now}`;
  /** The rule's complement among live rows: still live and not lapsed (`now` as for `sql`). */
  const unlapsedSql = (alias: string, now = '?'): string => `${alias}.status = '${live}' AND ${alias}.expires_at > ${now}`;
  return {
    isLapsed,
    /** The SQL form for the row named `alias`; `now` is its one parameter, `?` unless a named one (`:now`) is given. */
    sql,
    unlapsedSql,
    /**
     * The locking read of a product's lapsed units in `table` (one row, `units`), with SKIP LOCKED:
     * a row another transaction holds (being converted, paid or swept) is not counted, and the
     * rows counted stay locked until the caller's transaction ends. A part of the reservation's
     * statement, under the product's row lock.
     */
    unitsRead: (table: 'holds' | 'orders', productId: number, now: Date): SqlPart => ({
      sql: `SELECT COALESCE(SUM(t.qty), 0) AS units FROM ${table} t
             WHERE t.product_id = ? AND ${sql('t')}
             FOR UPDATE SKIP LOCKED`,
      params: [productId, now],
    }),
    /**
     * The units of these buyers' lapsed rows in `table` that another transaction holds right now
     * (rows `buyer`, `units`; add them up per buyer): each lapsed row once with its units, and
     * once more negated through a locking read with SKIP LOCKED, which skips exactly the rows held
     * elsewhere. Such a row may be turning into what still counts (a hold into an order, an order
     * into a paid one) at a `now` just before this one, and that row is not committed yet: it is
     * counted as taken until it is released. `also` is one more condition on every row.
     */
    heldLapsedByBuyerRead: (table: 'holds' | 'orders', productId: number, buyers: string[], now: Date, also: SqlPart): SqlPart => {
      const where = `t.product_id = ? AND t.buyer IN (?) AND ${sql('t')} AND ${also.sql}`;
      const params = [productId, buyers, now, ...also.params];
      return {
        sql: `(SELECT t.buyer, t.qty AS units FROM ${table} t WHERE ${where})
              UNION ALL (SELECT t.buyer, -CAST(t.qty AS SIGNED) AS units FROM ${table} t WHERE ${where} FOR UPDATE SKIP LOCKED)`,
        params: [...params, ...params],
      };
    },
    /** How a row reads at `now`: a lapsed one reads as expired. */
    statusAt: <T extends string>(row: { status: T; expiresAt: Date }, now: Date): T | 'expired' => (isLapsed(row, now) ? 'expired' : row.status),
  };
}
