import type { Connection, RowDataPacket } from 'mysql2/promise';

/** Products checked per snapshot, and orders per snapshot. */
const PRODUCT_CHUNK = 200;
const ORDER_CHUNK = 5000;

type Row = RowDataPacket & Record<string, string | number | null>;

const num = (v: unknown): number => Number(v ?? 0);

/** What one chunk checked: how many rows, the last id (undefined: nothing was left), its discrepancies. */
interface Chunk {
  count: number;
  lastId?: number;
  problems: string[];
}

/** Sums per product of one chunk, by name. */
type Sums = Map<number, Record<string, number>>;

function add(sums: Sums, id: number, key: string, value: number): void {
  const entry = sums.get(id) ?? {};
  entry[key] = (entry[key] ?? 0) + value;
  sums.set(id, entry);
}

/**
 * Runs `read` inside one consistent snapshot (REPEATABLE READ, START TRANSACTION WITH CONSISTENT
 * SNAPSHOT, read only): every statement of the chunk sees the database at one instant, and plain
 * reads take no locks, so a live sale is never blocked by the audit.
 */
async function inSnapshot<T>(db: Connection, read: () => Promise<T>): Promise<T> {
  await db.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  try {
    return await read();
  } finally {
    await db.query('COMMIT');
  }
}

async function rows(db: Connection, sql: string, params: unknown[]): Promise<Row[]> {
  const [result] = await db.query<Row[]>(sql, params);
  return result;
}

/**
 * The product checks of one chunk (ids after `afterId`), in one snapshot. Returns the chunk's last
 * id (undefined when there were no more products) and its discrepancies.
 *
 * For each product: `stock` and `reserved` equal the sums of its movements; `reserved` equals the
 * units of its holds stored `active` and its orders stored `pending` (lapsed ones included: lapse
 * by read leaves their units in `reserved` until the sweep); the units of its paid orders equal
 * what its `sale` movements took out of `stock`; no figure is negative (the sums, and the
 * availability `stock − reserved + lapsed units` at the audit's clock; orders paid before the
 * product's ledger began are left out of the sale check); `holds_granted` is at least
 * the number of its ledger's `hold` movements (one per hold granted; more only for holds granted
 * before the ledger began).
 */
async function productChunk(db: Connection, afterId: number, now: Date): Promise<Chunk> {
  return inSnapshot(db, async () => {
    const products = await rows(db, 'SELECT id, stock, reserved, holds_granted FROM products WHERE id > ? ORDER BY id LIMIT ?', [afterId, PRODUCT_CHUNK]);
    if (products.length === 0) return { count: 0, problems: [] };
    const ids = products.map((p) => num(p.id));
    const sums: Sums = new Map();
    /** When each product's ledger began: its first movement (the migration's `opening` for a product older than the ledger). */
    const ledgerStart = new Map<number, Date>();
    const range = [ids[0], ids[ids.length - 1]];
    for (const r of await rows(
      db,
      `SELECT product_id, kind, SUM(stock_delta) AS s, SUM(reserved_delta) AS r, COUNT(*) AS n, MIN(created_at) AS first_at FROM stock_movements
        WHERE product_id BETWEEN ? AND ? GROUP BY product_id, kind`,
      range,
    )) {
      const id = num(r.product_id);
      const firstAt = r.first_at as Date;
      const start = ledgerStart.get(id);
      if (start === undefined || firstAt < start) ledgerStart.set(id, firstAt);
      add(sums, id, 'm_stock', num(r.s));
      add(sums, id, 'm_reserved', num(r.r));
      if (r.kind === 'sale') add(sums, id, 'm_sold', -num(r.s));
      if (r.kind === 'hold') add(sums, id, 'm_holds', num(r.n));
    }
    for (const r of await rows(
      db,
      `SELECT product_id, SUM(qty) AS units, SUM(CASE WHEN expires_at <= ? THEN qty ELSE 0 END) AS lapsed, MIN(qty) AS min_qty
         FROM holds WHERE product_id BETWEEN ? AND ? AND status = 'active' GROUP BY product_id`,
      [now, ...range],
    )) {
      add(sums, num(r.product_id), 'holds', num(r.units));
      add(sums, num(r.product_id), 'lapsed', num(r.lapsed));
      if (num(r.min_qty) <= 0) add(sums, num(r.product_id), 'bad_qty', 1);
    }
    for (const r of await rows(
      db,
      `SELECT product_id, status, SUM(qty) AS units, SUM(CASE WHEN status = 'pending' AND expires_at <= ? THEN qty ELSE 0 END) AS lapsed, MIN(qty) AS min_qty
         FROM orders WHERE product_id BETWEEN ? AND ? AND status IN ('pending', 'paid') GROUP BY product_id, status`,
      [now, ...range],
    )) {
      const id = num(r.product_id);
      add(sums, id, r.status === 'pending' ? 'pending' : 'paid', num(r.units));
      add(sums, id, 'lapsed', num(r.lapsed));
      if (num(r.min_qty) <= 0) add(sums, id, 'bad_qty', 1);
    }
    const problems: string[] = [];
    for (const p of products) {
      const id = num(p.id);
      const stock = num(p.stock);
      const reserved = num(p.reserved);
      const s = sums.get(id) ?? {};
      const [mStock, mReserved, rowsReserved] = [s.m_stock ?? 0, s.m_reserved ?? 0, (s.holds ?? 0) + (s.pending ?? 0)];
      if (stock !== mStock) problems.push(`product ${id}: stock ${stock} but its movements sum to ${mStock}`);
      if (reserved !== mReserved) problems.push(`product ${id}: reserved ${reserved} but its movements sum to ${mReserved}`);
      if (reserved !== rowsReserved) {
        problems.push(`product ${id}: reserved ${reserved} but its active holds (${s.holds ?? 0}) and pending orders (${s.pending ?? 0}) hold ${rowsReserved}`);
      }
      if ((s.paid ?? 0) !== (s.m_sold ?? 0)) {
        const [paid, sold] = await paidSinceLedger(db, id, ledgerStart.get(id), s.paid ?? 0, s.m_sold ?? 0);
        if (paid !== sold) problems.push(`product ${id}: paid orders hold ${paid} units but sale movements took ${sold} out of stock`);
      }
      if (mStock < 0) problems.push(`product ${id}: negative stock in its movements (${mStock})`);
      if (mReserved < 0) problems.push(`product ${id}: negative reserved in its movements (${mReserved})`);
      const available = stock - reserved + (s.lapsed ?? 0);
      if (available < 0) problems.push(`product ${id}: negative availability ${available} (stock ${stock}, reserved ${reserved}, lapsed ${s.lapsed ?? 0})`);
      if (s.bad_qty) problems.push(`product ${id}: a hold or order with a quantity below 1`);
      const granted = num(p.holds_granted);
      if (granted < (s.m_holds ?? 0)) problems.push(`product ${id}: holds_granted ${granted} but its ledger granted ${s.m_holds ?? 0} holds`);
    }
    return { count: ids.length, lastId: ids[ids.length - 1], problems };
  });
}

/**
 * A product's paid units and its `sale` movements' units, both without the orders paid before its
 * ledger began (a database migrated from a version without the ledger: those payments moved stock
 * before the `opening` movement, which starts from the stock they left, and have no `sale`
 * movement). Read only for a product whose totals differ, in the chunk's snapshot.
 */
async function paidSinceLedger(db: Connection, id: number, start: Date | undefined, paid: number, sold: number): Promise<[number, number]> {
  if (start === undefined) return [paid, sold];
  const [r] = await rows(
    db,
    `SELECT (SELECT SUM(qty) FROM orders WHERE product_id = ? AND status = 'paid' AND updated_at < ?) AS paid_before,
            (SELECT SUM(-m.stock_delta) FROM stock_movements m JOIN orders o ON o.id = m.order_id
              WHERE m.product_id = ? AND m.kind = 'sale' AND o.updated_at < ?) AS sold_before`,
    [id, start, id, start],
  );
  return [paid - num(r.paid_before), sold - num(r.sold_before)];
}

/**
 * The order checks of one chunk of order ids, in one snapshot: no hold has two orders; a paid order
 * has exactly one applied payment event, any order at most one; each applied event's order is in
 * the state the event recorded (an applied event whose order does not exist is a discrepancy too).
 */
async function orderChunk(db: Connection, afterId: number): Promise<Chunk> {
  return inSnapshot(db, async () => {
    const orders = await rows(
      db,
      `SELECT o.id, o.hold_id, o.status,
              (SELECT COUNT(*) FROM orders o2 WHERE o2.hold_id = o.hold_id AND o2.id < o.id) AS earlier,
              COUNT(e.id) AS applied, GROUP_CONCAT(e.order_status ORDER BY e.id) AS set_to
         FROM orders o LEFT JOIN payment_events e ON e.order_id = o.id AND e.result = 'applied'
        WHERE o.id > ? GROUP BY o.id ORDER BY o.id LIMIT ?`,
      [afterId, ORDER_CHUNK],
    );
    const problems: string[] = [];
    for (const o of orders) {
      const [id, status, applied] = [num(o.id), String(o.status), num(o.applied)];
      if (num(o.earlier) > 0) problems.push(`hold ${num(o.hold_id)}: order ${id} is a second order of this hold`);
      if (status === 'paid' && applied !== 1) problems.push(`order ${id}: paid with ${applied} applied payment events`);
      else if (applied > 1) problems.push(`order ${id}: ${applied} applied payment events`);
      for (const set of String(o.set_to ?? '')
        .split(',')
        .filter(Boolean)) {
        if (set !== status) problems.push(`order ${id}: is ${status} but its applied payment event set it ${set}`);
      }
    }
    const lastId = orders.length > 0 ? num(orders[orders.length - 1].id) : undefined;
    return { count: orders.length, lastId, problems };
  });
}

/** Applied events whose order does not exist, read in chunks of event ids, each in its own snapshot. */
async function orphanEvents(db: Connection): Promise<string[]> {
  const problems: string[] = [];
  let afterId = 0;
  for (;;) {
    const page = await inSnapshot(db, () =>
      rows(
        db,
        `SELECT e.id, e.order_id, o.id AS found FROM payment_events e LEFT JOIN orders o ON o.id = e.order_id
          WHERE e.id > ? AND e.result = 'applied' ORDER BY e.id LIMIT ?`,
        [afterId, ORDER_CHUNK],
      ),
    );
    for (const e of page) if (e.found === null) problems.push(`payment event ${num(e.id)}: applied, but its order ${num(e.order_id)} does not exist`);
    if (page.length < ORDER_CHUNK) return problems;
    afterId = num(page[page.length - 1].id);
  }
}

export interface AuditResult {
  products: number;
  orders: number;
  problems: string[];
}

/**
 * Audits the database on `db` (a connection of its own: its session is set to REPEATABLE READ).
 * Keyset-paged, each chunk in its own consistent snapshot; the hold-per-order check is one more
 * statement per order chunk on the unique key of `hold_id`. Returns one line per discrepancy.
 */
export async function audit(db: Connection, now = new Date()): Promise<AuditResult> {
  await db.query("SET time_zone = '+00:00'");
  await db.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  const problems: string[] = [];
  let products = 0;
  for (let after = 0; ;) {
    const chunk = await productChunk(db, after, now);
    if (chunk.lastId === undefined) break;
    problems.push(...chunk.problems);
    products += chunk.count;
    after = chunk.lastId;
  }
  let orders = 0;
  for (let after = 0; ;) {
    const chunk = await orderChunk(db, after);
    if (chunk.lastId === undefined) break;
    problems.push(...chunk.problems);
    orders += chunk.count;
    after = chunk.lastId;
  }
  problems.push(...(await orphanEvents(db)));
  return { products, orders, problems };
}
