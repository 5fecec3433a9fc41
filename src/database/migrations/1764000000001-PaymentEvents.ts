import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per webhook idempotency key (unique, case-sensitive). `result` and `order_status` are
 * what the event did and what the order was then, so a redelivery answers the same; a `deferred`
 * row waits for its order and is settled in the order's creation transaction.
 */
export class PaymentEvents1764000000001 implements MigrationInterface {
  name = 'PaymentEvents1764000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE payment_events (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        idempotency_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        order_id BIGINT UNSIGNED NOT NULL,
        status ENUM('success','failure') NOT NULL,
        result ENUM('applied','ignored','deferred') NOT NULL,
        order_status ENUM('pending','paid','cancelled') NULL,
        received_at DATETIME(3) NOT NULL,
        settled_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_payment_events_key (idempotency_key),
        KEY idx_payment_events_order (order_id, result, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE payment_events');
  }
}
