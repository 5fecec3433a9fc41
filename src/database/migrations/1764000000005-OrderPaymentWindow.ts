import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The payment window: every order gets `expires_at` (its payment deadline) and `refund_due` (a
 * payment came after the deadline: the money was taken, the units are gone), and may end
 * `expired`. Orders pending at the migration get `created_at + ORDER_PAYMENT_TTL_SECONDS` (900
 * unless the environment says otherwise). The indexes serve the lapsed sums per product (the same
 * shape as the holds') and the sweep; payment events may now record a `late` payment.
 */
export class OrderPaymentWindow1764000000005 implements MigrationInterface {
  name = 'OrderPaymentWindow1764000000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    const ttl = Number(process.env.ORDER_PAYMENT_TTL_SECONDS) || 900;
    await queryRunner.query(
      `ALTER TABLE orders
         MODIFY status ENUM('pending','paid','cancelled','expired') NOT NULL DEFAULT 'pending',
         ADD expires_at DATETIME(3) NULL AFTER status,
         ADD refund_due TINYINT NOT NULL DEFAULT 0 AFTER expires_at`,
    );
    await queryRunner.query('UPDATE orders SET expires_at = created_at + INTERVAL ? SECOND', [ttl]);
    await queryRunner.query(
      `ALTER TABLE orders
         MODIFY expires_at DATETIME(3) NOT NULL,
         ADD KEY idx_orders_product_status_expires (product_id, status, expires_at, qty),
         ADD KEY idx_orders_status_expires (status, expires_at),
         ADD KEY idx_orders_refund_due (refund_due, id)`,
    );
    await queryRunner.query(
      `ALTER TABLE payment_events
         MODIFY result ENUM('applied','ignored','deferred','late') NOT NULL,
         MODIFY order_status ENUM('pending','paid','cancelled','expired') NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE payment_events
         MODIFY result ENUM('applied','ignored','deferred') NOT NULL,
         MODIFY order_status ENUM('pending','paid','cancelled') NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE orders
         DROP KEY idx_orders_refund_due, DROP KEY idx_orders_status_expires, DROP KEY idx_orders_product_status_expires,
         DROP COLUMN refund_due, DROP COLUMN expires_at,
         MODIFY status ENUM('pending','paid','cancelled') NOT NULL DEFAULT 'pending'`,
    );
  }
}
