import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency-Keys scoped to the buyer as well as the route (docs/API.md, Idempotent retries): the
 * scope of a buyer's key is the route's and a digest of the buyer (buyerKeyScope), longer than the
 * 32 characters a route's scope needed.
 */
export class IdempotencyScopeByBuyer1764000000011 implements MigrationInterface {
  name = 'IdempotencyScopeByBuyer1764000000011';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE idempotency_keys MODIFY scope VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Buyers' keys do not fit the narrower column; they are forgotten (as after 24 hours).
    await queryRunner.query('DELETE FROM idempotency_keys WHERE CHAR_LENGTH(scope) > 32');
    await queryRunner.query('ALTER TABLE idempotency_keys MODIFY scope VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL');
  }
}
