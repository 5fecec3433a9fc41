import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An expired order's `updated_at` is its `expires_at` (docs/API.md, Shapes): the instant its status
 * became `expired`, which the expiry job stores instead of its own time. Orders it swept before
 * that rule carry the sweep's time, which every read already replaces with `expires_at` but which
 * hold retention (holdsWithOrderEndedBefore) reads as stored: their holds were kept longer than
 * HOLD_RETENTION_DAYS after the order ended. This brings them to the rule.
 */
export class ExpiredOrdersChangedAtDeadline1764000000012 implements MigrationInterface {
  name = 'ExpiredOrdersChangedAtDeadline1764000000012';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("UPDATE orders SET updated_at = expires_at WHERE status = 'expired' AND updated_at <> expires_at");
  }

  async down(): Promise<void> {
    // The sweeps' own times are not kept, and nothing reads them: every read shows `expires_at`.
  }
}
