import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Buyers and webhook keys compared byte for byte, as docs/API.md says, trailing spaces included.
 * `utf8mb4_bin` and `ascii_bin` are PAD SPACE collations: `WHERE buyer = 'alice'` also finds
 * `alice ` (so a token whose `sub` is `alice ` would see alice's holds and orders), and the
 * webhook key `evt-1 ` would be a replay of `evt-1`. The columns move to a NO PAD binary
 * collation, the server's own: `utf8mb4_nopad_bin` on MariaDB, `utf8mb4_0900_bin` on MySQL 8 (its
 * 0900 collations are all NO PAD); the webhook key, printable ASCII, takes the same one.
 */
export class ExactComparisons1764000000010 implements MigrationInterface {
  name = 'ExactComparisons1764000000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const text = `CHARACTER SET utf8mb4 COLLATE ${await noPadBinaryCollation(queryRunner)}`;
    await queryRunner.query(`ALTER TABLE holds MODIFY buyer VARCHAR(255) ${text} NULL DEFAULT NULL`);
    await queryRunner.query(`ALTER TABLE orders MODIFY buyer VARCHAR(255) ${text} NULL DEFAULT NULL`);
    await queryRunner.query(`ALTER TABLE payment_events MODIFY idempotency_key VARCHAR(255) ${text} NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE payment_events MODIFY idempotency_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL');
    await queryRunner.query('ALTER TABLE orders MODIFY buyer VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL DEFAULT NULL');
    await queryRunner.query('ALTER TABLE holds MODIFY buyer VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL DEFAULT NULL');
  }
}

/** The server's NO PAD binary collation of utf8mb4 (MariaDB 10.2+, MySQL 8.0+). */
export async function noPadBinaryCollation(queryRunner: QueryRunner): Promise<string> {
  const rows = (await queryRunner.query(
    "SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')",
  )) as Array<{ name: string }>;
  const names = rows.map((r) => r.name);
  const found = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin'].find((n) => names.includes(n));
  if (!found) throw new Error('The database has no NO PAD binary collation of utf8mb4: MariaDB 10.2 or later, or MySQL 8.0 or later, is needed');
  return found;
}
