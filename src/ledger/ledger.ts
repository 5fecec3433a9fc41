import type { MovementKind } from './movement-kind';

/** One row of the ledger: a change of one product's figures and what it belongs to. */
export interface Movement {
  productId: number;
  kind: MovementKind;
  stockDelta: number;
  reservedDelta: number;
  holdId?: number;
  orderId?: number;
  paymentEventId?: number;
}

/** Anything that runs a statement: a transaction's EntityManager, or the start-up DataSource. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Appends movements with one multi-row INSERT on the caller's connection, inside the caller's
 * transaction (the one that changes the figures). The one statement that writes stock_movements;
 * the table is append-only: nothing updates or deletes its rows.
 */
export async function appendMovements(db: Queryable, rows: Movement[], at: Date): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((m) => [m.productId, m.kind, m.stockDelta, m.reservedDelta, m.holdId ?? null, m.orderId ?? null, m.paymentEventId ?? null, at]);
  await db.query('INSERT INTO stock_movements (product_id, kind, stock_delta, reserved_delta, hold_id, order_id, payment_event_id, created_at) VALUES ?', [
    values,
  ]);
}
