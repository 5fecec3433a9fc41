import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `products.holds_granted`: the holds ever granted on the product, counted by the reservation that
 * grants them (StockService.reserve, in the same UPDATE as `reserved`). The operator's figures
 * (`GET /api/admin/sales`) read it instead of counting the holds table, whose ended rows the expiry
 * job deletes after HOLD_RETENTION_DAYS, so the figure never goes down, and reading it does not
 * grow with the table.
 *
 * A database from before starts from what is left to count: the holds still stored, or the ledger's
 * `hold` movements when there are more of them (holds purged after the ledger began).
 */
export class ProductHoldsGranted1764000000014 implements MigrationInterface {
  name = 'ProductHoldsGranted1764000000014';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE products ADD holds_granted BIGINT UNSIGNED NOT NULL DEFAULT 0 AFTER reserved');
    await queryRunner.query(`
      UPDATE products p
         SET p.holds_granted = GREATEST(
               (SELECT COUNT(*) FROM holds h WHERE h.product_id = p.id),
               (SELECT COUNT(*) FROM stock_movements m WHERE m.product_id = p.id AND m.kind = 'hold'))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE products DROP COLUMN holds_granted');
  }
}
