import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config';
import { appendMovements } from '../ledger/ledger';

export const DEMO_PRODUCT_NAME = 'Limited sneaker';

/**
 * Seeds the demo product (SEED_PRODUCT_STOCK units at SEED_PRODUCT_PRICE) when no product exists,
 * so a fresh install has something to sell. Running it again changes nothing. It runs on the
 * start-up connection, before the application's modules (and their entities) exist, hence SQL.
 */
export class ProductSeeder {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: Pick<AppConfig, 'seedProductStock' | 'seedProductPrice'>,
  ) {}

  /** Returns the new product's id, or null when products existed already. */
  async run(): Promise<number | null> {
    const [{ count }] = await this.dataSource.query<Array<{ count: number | string }>>('SELECT COUNT(*) AS count FROM products');
    if (Number(count) > 0) return null;
    const now = new Date();
    // The product and its opening movement together, so the ledger's sums hold from the start.
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.query<{ insertId: number }>(
        'INSERT INTO products (name, price, stock, reserved, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)',
        [DEMO_PRODUCT_NAME, this.config.seedProductPrice, this.config.seedProductStock, now, now],
      );
      const id = Number(result.insertId);
      await appendMovements(manager, [{ productId: id, kind: 'opening', stockDelta: this.config.seedProductStock, reservedDelta: 0 }], now);
      return id;
    });
  }
}
