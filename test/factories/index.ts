import { DataSource } from 'typeorm';
import { Hold, HoldStatus } from '../../src/hold/hold.entity';
import { Order } from '../../src/order/order.entity';
import { OrderStatus } from '../../src/order/order-status';
import { Product } from '../../src/product/product.entity';
import { lineTotal } from '../../src/common/money';

/** TypeORM hands back a generated BIGINT id as a string; the service's ids are numbers. */
function withNumericId<T extends { id: number }>(row: T): T {
  row.id = Number(row.id);
  return row;
}

/**
 * Factories build rows directly in the database with overrides, keeping the product's
 * accounting consistent: an active hold or a pending order adds its units to `reserved`.
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
    return withNumericId(saved);
  }
}

export class HoldFactory {
  constructor(private readonly dataSource: DataSource) {}

  async create(overrides: { productId: number; qty?: number; status?: HoldStatus; expiresAt?: Date; createdAt?: Date }): Promise<Hold> {
    const now = new Date();
    const hold = this.dataSource.getRepository(Hold).create({
      qty: 1,
      status: 'active',
      createdAt: now,
      expiresAt: new Date(now.getTime() + 120_000),
      ...overrides,
    });
    const saved = withNumericId(await this.dataSource.getRepository(Hold).save(hold));
    if (saved.status === 'active') {
      await this.dataSource.query('UPDATE products SET reserved = reserved + ? WHERE id = ?', [saved.qty, saved.productId]);
    }
    return saved;
  }
}

export class OrderFactory {
  constructor(private readonly dataSource: DataSource) {}

  /** An order with its converted hold. `paid` units are taken as already gone from `stock`. */
  async create(overrides: { productId: number; qty?: number; status?: OrderStatus; unitPrice?: string; expiresAt?: Date }): Promise<Order> {
    const qty = overrides.qty ?? 1;
    const now = new Date();
    const holds = new HoldFactory(this.dataSource);
    const hold = await holds.create({ productId: overrides.productId, qty, status: 'converted' });
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
          updatedAt: now,
        }),
      ),
    );
    if (status === 'pending') {
      await this.dataSource.query('UPDATE products SET reserved = reserved + ? WHERE id = ?', [qty, overrides.productId]);
    }
    return order;
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
  return {
    makeProduct: products.create.bind(products),
    makeHold: holds.create.bind(holds),
    makeOrder: orders.create.bind(orders),
    pinNextOrderId: orderIds.pinNext.bind(orderIds),
  };
}
