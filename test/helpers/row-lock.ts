import { Connection } from 'mysql2/promise';
import { pollUntil } from './wait';

/** Takes a product's row lock on `locker` in an open transaction (end it with ROLLBACK). */
export async function lockProductRow(locker: Connection, productId: number): Promise<void> {
  await locker.query('START TRANSACTION');
  await locker.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [productId]);
}

/**
 * Resolves once at least `count` reservations (the hold batch's locking statement, a UNION ALL
 * that begins with the product's `FOR UPDATE`) of other sessions wait on a product row lock.
 */
export function untilReservationsWait(locker: Connection, count: number): Promise<number> {
  return pollUntil(
    `${count} reservation batch(es) wait on the row lock`,
    async () => {
      const [w] = await locker.query(
        "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE info LIKE '%FROM products WHERE id = % FOR UPDATE)%UNION ALL%' AND id <> CONNECTION_ID()",
      );
      return Number((w as Array<{ n: number }>)[0].n);
    },
    (n) => n >= count,
  );
}

/**
 * Takes the product's row lock on `locker`, starts `count` requests with `send` and resolves, with
 * what `send` returned for each, once every one's reservation batch waits on the lock (an
 * instance runs at most two batches of one product at once).
 */
export async function blockedOnRowLock<T>(locker: Connection, productId: number, count: number, send: () => T): Promise<T[]> {
  await lockProductRow(locker, productId);
  const started = Array.from({ length: count }, () => send());
  await untilReservationsWait(locker, count);
  return started;
}
