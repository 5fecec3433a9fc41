import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/config';
import { Product } from '../../product/product.entity';

export const DEMO_PRODUCT_NAME = 'Limited sneaker';

/**
 * Seeds the demo product (SEED_PRODUCT_STOCK units at SEED_PRODUCT_PRICE) when no product exists,
 * so a fresh install has something to sell. Running it again changes nothing.
 */
export class ProductSeeder {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: Pick<AppConfig, 'seedProductStock' | 'seedProductPrice'>,
  ) {}

  async run(): Promise<Product | null> {
    const repo = this.dataSource.getRepository(Product);
    if ((await repo.count()) > 0) return null;
    const now = new Date();
    return repo.save(
      repo.create({
        name: DEMO_PRODUCT_NAME,
        price: this.config.seedProductPrice,
        stock: this.config.seedProductStock,
        reserved: 0,
        createdAt: now,
        updatedAt: now,
      }),
    );
  }
}
