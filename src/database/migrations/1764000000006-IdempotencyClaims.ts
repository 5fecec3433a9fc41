import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Key claims: a request claims its key with a committed row before it does any work
 * (`status_code` NULL while in flight, with the claimant's `claim_token` and a lease in
 * `claimed_until`), and the effect's transaction fills in the answer. A retry on any instance then
 * sees the claim instead of missing an uncommitted key; a claimant that died leaves a claim that
 * lapses with its lease instead of blocking the key.
 */
export class IdempotencyClaims1764000000006 implements MigrationInterface {
  name = 'IdempotencyClaims1764000000006';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE idempotency_keys
         MODIFY status_code SMALLINT UNSIGNED NULL,
         MODIFY response_body TEXT NULL,
         ADD claim_token CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER response_body,
         ADD claimed_until DATETIME(3) NULL AFTER claim_token`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DELETE FROM idempotency_keys WHERE status_code IS NULL');
    await queryRunner.query(
      `ALTER TABLE idempotency_keys
         DROP COLUMN claimed_until,
         DROP COLUMN claim_token,
         MODIFY response_body TEXT NOT NULL,
         MODIFY status_code SMALLINT UNSIGNED NOT NULL`,
    );
  }
}
