import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An order's total is unit_price (up to 10 integer digits) × qty (up to MAX_HOLD_QTY = 1000):
 * up to 14 integer digits, more than DECIMAL(14,2) holds. Widened so the largest allowed price and
 * quantity still make an order.
 */
export class OrderTotalWidth1764000000003 implements MigrationInterface {
  name = 'OrderTotalWidth1764000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders MODIFY total DECIMAL(16,2) NOT NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders MODIFY total DECIMAL(14,2) NOT NULL');
  }
}
