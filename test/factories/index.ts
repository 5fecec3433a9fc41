import { DataSource } from 'typeorm';
import { Hold, HoldStatus } from '../../src/hold/hold.entity';
import { Order } from '../../src/order/order.entity';
import { PaymentEvent } from '../../src/payment/payment-event.entity';
import { OrderStatus } from '../../src/order/order-status';
import { Product } from '../../src/product/product.entity';
import { lineTotal } from '../../src/common/money';
import { appendMovements, Movement } from '../../src/ledger/ledger';

/** TypeORM hands back a generated BIGINT id as a string; the service's ids are numbers. */
function withNumericId<T extends { id: number }>(row: T): T {
  row.id = Number(row.id);
  return row;
}

/**
 * Factories build rows directly in the database with overrides, keeping the product's
 * accounting consistent: an active hold or a pending order adds its units to `reserved`, and the
 * stock ledger gets the movements the service would have written (`opening` for a product, `hold`
 * for an active hold, `hold` and `order` for a pending order), so the audit finds the sums equal.
 * Paid, cancelled and expired rows are history the factories do not replay: a test that makes
 * them leaves a database the audit does not call clean.
 */
export class ProductFactory {
  private seq = 0;
  constructor(private readonly dataSource: DataSource) {}

  async create(overrides: Partial<Pick<Product, 'name' | 'price' | 'stock' | 'reserved'>> = {}): Promise<Product> {
    const now = new Date();
    this.seq += 1;
    const repo = this.dataSource.getRepository(Product);
    const saved = await repo.save(
      repo.create({ name: `Test product ${this.seq}`, price: '49.99', stock: 10, reserved: 0, createdAt: now, updatedAt: now, ...overrides }),
    );
    const product = withNumericId(saved);
    await appendMovements(
      this.dataSource,
      [{ productId: product.id, kind: 'opening', stockDelta: Number(product.stock), reservedDelta: Number(product.reserved) }],
      now,
    );
    return product;
  }
}

export class HoldFactory {
  constructor(private readonly dataSource: DataSource) {}

  async create(overrides: HoldOverrides): Promise<Hold> {
    const now = new Date();
    const hold = this.dataSource.getRepository(Hold).create({
      qty: 1,
      status: 'active',
      createdAt: now,
      expiresAt: new Date(now.getTime() + 120_000),
      ...overrides,
    });
    const saved = withNumericId(await this.dataSource.getRepository(Hold).save(hold));
    await addGranted(this.dataSource, [saved]);
    if (saved.status === 'active') {
      await this.dataSource.query('UPDATE products SET reserved = reserved + ? WHERE id = ?', [saved.qty, saved.productId]);
      await appendMovements(this.dataSource, [heldMovement(saved.productId, saved.id, saved.qty)], now);
    }
    return saved;
  }

  /**
   * Many holds with one multi-row INSERT (for tables of a million rows: the growth bench), the
   * products' `reserved` kept as `create` keeps it. Returns the new ids, in the order given.
   */
  async createMany(rows: HoldOverrides[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const now = new Date();
    const repo = this.dataSource.getRepository(Hold);
    const holds = rows.map((o) => repo.create({ qty: 1, status: 'active', createdAt: now, expiresAt: new Date(now.getTime() + 120_000), ...o }));
    const result = await repo.createQueryBuilder().insert().values(holds).updateEntity(false).execute();
    await addGranted(this.dataSource, holds);
    await addReserved(
      this.dataSource,
      holds.filter((h) => h.status === 'active'),
    );
    const ids = insertedIds(result.raw as { insertId: number }, rows.length);
    await appendMovements(
      this.dataSource,
      holds.flatMap((h, i) => (h.status === 'active' ? [heldMovement(h.productId, ids[i], h.qty)] : [])),
      now,
    );
    return ids;
  }
}

function heldMovement(productId: number, holdId: number, qty: number): Movement {
  return { productId, kind: 'hold', stockDelta: 0, reservedDelta: qty, holdId };
}

/** A pending order made from its hold directly: the hold's grant and its passing to the order. */
function pendingOrderMovements(productId: number, holdId: number, orderId: number, qty: number): Movement[] {
  return [heldMovement(productId, holdId, qty), { productId, kind: 'order', stockDelta: 0, reservedDelta: 0, holdId, orderId }];
}

type HoldOverrides = { productId: number; qty?: number; status?: HoldStatus; expiresAt?: Date; createdAt?: Date };

/** The ids of a multi-row INSERT: consecutive from the first (InnoDB's "simple insert" of known size). */
function insertedIds(raw: { insertId: number }, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Number(raw.insertId) + i);
}

/** Counts holds, whatever their status, in their products' `holds_granted`, one UPDATE per product. */
async function addGranted(dataSource: DataSource, holds: Array<{ productId: number }>): Promise<void> {
  const count = new Map<number, number>();
  for (const h of holds) count.set(h.productId, (count.get(h.productId) ?? 0) + 1);
  for (const [productId, n] of count) await dataSource.query('UPDATE products SET holds_granted = holds_granted + ? WHERE id = ?', [n, productId]);
}

/** Adds the units of active holds or pending orders to their products' `reserved`, one UPDATE per product. */
async function addReserved(dataSource: DataSource, rows: Array<{ productId: number; qty: number }>): Promise<void> {
  const units = new Map<number, number>();
  for (const r of rows) units.set(r.productId, (units.get(r.productId) ?? 0) + r.qty);
  for (const [productId, qty] of units) await dataSource.query('UPDATE products SET reserved = reserved + ? WHERE id = ?', [qty, productId]);
}

export class OrderFactory {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * An order with its converted hold. `paid` units are taken as already gone from `stock`. `at`
   * dates it (default now): the hold was made a second before and expires 120 s after that;
   * `updatedAt` (default `at`) is when its status last changed.
   */
  async create(overrides: OrderOverrides): Promise<Order> {
    const qty = overrides.qty ?? 1;
    const now = overrides.at ?? new Date();
    const holds = new HoldFactory(this.dataSource);
    const hold = await holds.create({ productId: overrides.productId, qty, status: 'converted', ...holdTimes(now) });
    const unitPrice = overrides.unitPrice ?? '49.99';
    const status = overrides.status ?? 'pending';
    const repo = this.dataSource.getRepository(Order);
    const order = withNumericId(
      await repo.save(
        repo.create({
          holdId: hold.id,
          productId: overrides.productId,
          qty,
          unitPrice,
          total: lineTotal(unitPrice, qty),
          status,
          expiresAt: overrides.expiresAt ?? new Date(now.getTime() + 900_000),
          refundDue: false,
          createdAt: now,
          updatedAt: overrides.updatedAt ?? now,
        }),
      ),
    );
    if (status === 'pending') {
      await this.dataSource.query('UPDATE products SET reserved = reserved + ? WHERE id = ?', [qty, overrides.productId]);
      await appendMovements(this.dataSource, pendingOrderMovements(overrides.productId, hold.id, order.id, qty), now);
    }
    return order;
  }

  /**
   * Many orders with their converted holds, two multi-row INSERTs (the growth bench), accounted
   * as `create` does. Returns the new orders' ids and their holds' ids, in the order given.
   */
  async createMany(rows: OrderOverrides[]): Promise<Array<{ id: number; holdId: number }>> {
    if (rows.length === 0) return [];
    const holdIds = await new HoldFactory(this.dataSource).createMany(
      rows.map((o) => ({ productId: o.productId, qty: o.qty ?? 1, status: 'converted' as const, ...holdTimes(o.at ?? new Date()) })),
    );
    const repo = this.dataSource.getRepository(Order);
    const orders = rows.map((o, i) => {
      const qty = o.qty ?? 1;
      const at = o.at ?? new Date();
      const unitPrice = o.unitPrice ?? '49.99';
      return repo.create({
        holdId: holdIds[i],
        productId: o.productId,
        qty,
        unitPrice,
        total: lineTotal(unitPrice, qty),
        status: o.status ?? 'pending',
        expiresAt: o.expiresAt ?? new Date(at.getTime() + 900_000),
        refundDue: o.refundDue ?? false,
        createdAt: at,
        updatedAt: o.updatedAt ?? at,
      });
    });
    const result = await repo.createQueryBuilder().insert().values(orders).updateEntity(false).execute();
    await addReserved(
      this.dataSource,
      orders.filter((o) => o.status === 'pending'),
    );
    const ids = insertedIds(result.raw as { insertId: number }, rows.length);
    await appendMovements(
      this.dataSource,
      orders.flatMap((o, i) => (o.status === 'pending' ? pendingOrderMovements(o.productId, holdIds[i], ids[i], o.qty) : [])),
      new Date(),
    );
    return ids.map((id, i) => ({ id, holdId: holdIds[i] }));
  }
}

type OrderOverrides = {
  productId: number;
  qty?: number;
  status?: OrderStatus;
  unitPrice?: string;
  expiresAt?: Date;
  at?: Date;
  updatedAt?: Date;
  refundDue?: boolean;
};

/** The times of the hold an order made at `at` came from. */
function holdTimes(at: Date): { createdAt: Date; expiresAt: Date } {
  return { createdAt: new Date(at.getTime() - 1000), expiresAt: new Date(at.getTime() + 119_000) };
}

/** Payment events, as the webhook records them once settled; many with one multi-row INSERT. */
export class PaymentEventFactory {
  private seq = 0;
  constructor(private readonly dataSource: DataSource) {}

  async createMany(rows: Array<{ orderId: number; status?: 'success' | 'failure'; orderStatus?: OrderStatus; at?: Date }>): Promise<void> {
    if (rows.length === 0) return;
    const repo = this.dataSource.getRepository(PaymentEvent);
    const stamp = `${process.pid}-${Date.now()}`;
    const events = rows.map((r) => {
      this.seq += 1;
      const at = r.at ?? new Date();
      return repo.create({
        idempotencyKey: `evt_factory_${stamp}_${this.seq}`,
        orderId: r.orderId,
        status: r.status ?? 'success',
        result: 'applied',
        orderStatus: r.orderStatus ?? (r.status === 'failure' ? 'cancelled' : 'paid'),
        receivedAt: at,
        settledAt: at,
      });
    });
    await repo.createQueryBuilder().insert().values(events).updateEntity(false).execute();
  }
}

/**
 * The id the next order will get, made a fact instead of a guess. A test of a webhook that arrives
 * before its order needs the order's id before the service creates the order, and the service
 * takes it from the orders table's AUTO_INCREMENT. Reading that counter (or MAX(id) + 1) only
 * predicts it, and a rolled-back insert (a deadlock retry) leaves a gap the prediction misses. So
 * this picks an id that no order has had and no payment event has named yet, sets the table's
 * AUTO_INCREMENT to it (InnoDB accepts any value above the largest id, lower than the counter or
 * not), and returns it: the next `INSERT INTO orders` gets exactly this id. Tests still check the
 * created order's id, so if anything else took it they fail instead of passing by luck.
 */
export class OrderIdPinner {
  constructor(private readonly dataSource: DataSource) {}

  async pinNext(): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM orders), (SELECT COALESCE(MAX(order_id), 0) FROM payment_events)) + 1 AS id`,
    );
    const id = Number(row.id);
    if (!Number.isSafeInteger(id) || id < 1) throw new Error(`cannot pin the next order id: got ${String(row.id)}`);
    await this.dataSource.query(`ALTER TABLE orders AUTO_INCREMENT = ${id}`);
    return id;
  }
}

export function factories(dataSource: DataSource) {
  const products = new ProductFactory(dataSource);
  const holds = new HoldFactory(dataSource);
  const orders = new OrderFactory(dataSource);
  const orderIds = new OrderIdPinner(dataSource);
  const events = new PaymentEventFactory(dataSource);
  return {
    makeProduct: products.create.bind(products),
    makeHold: holds.create.bind(holds),
    makeOrder: orders.create.bind(orders),
    makeHolds: holds.createMany.bind(holds),
    makeOrders: orders.createMany.bind(orders),
    makePaymentEvents: events.createMany.bind(events),
    pinNextOrderId: orderIds.pinNext.bind(orderIds),
  };
}
