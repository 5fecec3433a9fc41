import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Buyers (docs/API.md, Buyers): holds and orders remember the buyer (a token's `sub`, compared byte
 * for byte, hence the binary collation: `alice` and `Alice` are two buyers), and a product may
 * limit the units one buyer takes.
 *
 * `(product_id, buyer, status, expires_at, qty)` on holds and on orders serves the per-buyer count
 * of a hold batch (BuyerLimitService) from the index alone: one buyer's rows of one product, by
 * status, with their deadlines and units. `(buyer, id)` serves the order listing's `buyer=` filter.
 */
export class Buyers1764000000008 implements MigrationInterface {
  name = 'Buyers1764000000008';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE products ADD COLUMN max_per_buyer INT UNSIGNED NULL DEFAULT NULL');
    await queryRunner.query(
      `ALTER TABLE holds ADD COLUMN buyer VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL DEFAULT NULL,
         ADD KEY idx_holds_product_buyer_status (product_id, buyer, status, expires_at, qty)`,
    );
    await queryRunner.query(
      `ALTER TABLE orders ADD COLUMN buyer VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL DEFAULT NULL,
         ADD KEY idx_orders_product_buyer_status (product_id, buyer, status, expires_at, qty),
         ADD KEY idx_orders_buyer_id (buyer, id)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders DROP KEY idx_orders_buyer_id, DROP KEY idx_orders_product_buyer_status, DROP COLUMN buyer');
    await queryRunner.query('ALTER TABLE holds DROP KEY idx_holds_product_buyer_status, DROP COLUMN buyer');
    await queryRunner.query('ALTER TABLE products DROP COLUMN max_per_buyer');
  }
}
