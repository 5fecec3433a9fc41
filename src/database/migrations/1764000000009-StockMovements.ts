import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The stock ledger: one append-only row per change of a product's `stock` or `reserved`, written in
 * the transaction of the change (src/ledger). The primary key is `(product_id, id)`, so a product's
 * history (the paged listing, the audit's sums) is one contiguous range of the clustered index and
 * a batch of one product's rows is appended at the end of it; `id` alone keeps its own key for the
 * AUTO_INCREMENT. No foreign keys: holds are purged after their retention, and a key to the hot
 * product row would take a shared lock on it for every insert.
 *
 * Products that exist before the ledger get one `opening` row each with their current `stock` and
 * `reserved`, so the sums equal the figures from the start (their earlier history is not known).
 */
export class StockMovements1764000000009 implements MigrationInterface {
  name = 'StockMovements1764000000009';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE stock_movements (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        product_id BIGINT UNSIGNED NOT NULL,
        kind ENUM('opening','restock','hold','hold_lapsed','hold_abandoned','order','sale','cancel','order_expired') NOT NULL,
        stock_delta BIGINT NOT NULL,
        reserved_delta BIGINT NOT NULL,
        hold_id BIGINT UNSIGNED NULL,
        order_id BIGINT UNSIGNED NULL,
        payment_event_id BIGINT UNSIGNED NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (product_id, id),
        UNIQUE KEY uq_stock_movements_id (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await queryRunner.query(`
      INSERT INTO stock_movements (product_id, kind, stock_delta, reserved_delta, created_at)
      SELECT id, 'opening', stock, reserved, UTC_TIMESTAMP(3) FROM products ORDER BY id`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE stock_movements');
  }
}
