import { MigrationInterface, QueryRunner } from 'typeorm';
import { noPadBinaryCollation } from './1764000000010-ExactComparisons';

/**
 * Idempotency-Keys compared byte for byte, trailing spaces included, as the webhook's keys already
 * are (ExactComparisons). HTTP parsing trims a header's own spaces, but Node joins repeated headers
 * with ", ", so `Idempotency-Key: k` and an empty one arrive as the key `k, `; under `ascii_bin`, a
 * PAD SPACE collation, that was the key `k,` and replayed its answer. The column moves to the
 * server's NO PAD binary collation (printable ASCII, so utf8mb4 stores each character in one byte).
 */
export class IdempotencyKeysExact1764000000013 implements MigrationInterface {
  name = 'IdempotencyKeysExact1764000000013';

  async up(queryRunner: QueryRunner): Promise<void> {
    const text = `CHARACTER SET utf8mb4 COLLATE ${await noPadBinaryCollation(queryRunner)}`;
    await queryRunner.query(`ALTER TABLE idempotency_keys MODIFY idem_key VARCHAR(255) ${text} NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // A key ending in a space would be the same key as the one without it; it is forgotten (as after 24 hours).
    await queryRunner.query("DELETE FROM idempotency_keys WHERE idem_key LIKE '% '");
    await queryRunner.query('ALTER TABLE idempotency_keys MODIFY idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL');
  }
}
