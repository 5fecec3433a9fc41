import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each module owns its table, and no table points into another module's with a foreign key: an
 * order's hold is checked by the order use case, which locks the hold row before it inserts the
 * order (and the unique key uq_orders_hold_id keeps one order per hold). The foreign key only
 * tied the two tables together, so that old holds could never be deleted while orders refer to them.
 */
export class OrdersWithoutHoldForeignKey1764000000004 implements MigrationInterface {
  name = 'OrdersWithoutHoldForeignKey1764000000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders DROP FOREIGN KEY fk_orders_hold');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE orders ADD CONSTRAINT fk_orders_hold FOREIGN KEY (hold_id) REFERENCES holds (id)');
  }
}
