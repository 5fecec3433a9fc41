import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Key records of POST /api/holds and POST /api/orders: one row per (route, key),
 * with the hash of the request body and the first answer, replayed for 24 hours.
 */
export class IdempotencyKeys1764000000002 implements MigrationInterface {
  name = 'IdempotencyKeys1764000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        scope VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        request_hash CHAR(64) CHARACTER SET ascii NOT NULL,
        status_code SMALLINT UNSIGNED NOT NULL,
        response_body TEXT NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (scope, idem_key),
        KEY idx_idempotency_keys_created (created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE idempotency_keys');
  }
}
