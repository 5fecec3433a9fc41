import { DataSource, QueryRunner } from 'typeorm';

/**
 * The ids of the rows of one multi-row `INSERT INTO holds`. MySQL reports only the first id. The
 * rest follow it one by one when InnoDB hands out a statement's ids in one block
 * (innodb_autoinc_lock_mode 0 or 1, the MariaDB default) with auto_increment_increment 1;
 * otherwise (mode 2, the MySQL 8 default, or a stepped increment) they are read back. The read is
 * exact because every insert of a product's holds happens under that product's row lock.
 */
export class HoldIdAllocator {
  private consecutive: Promise<boolean> | undefined;

  /** `consecutive` fixes the answer instead of asking the server (tests of the read-back path). */
  constructor(
    private readonly dataSource: DataSource,
    consecutive?: boolean,
  ) {
    if (consecutive !== undefined) this.consecutive = Promise.resolve(consecutive);
  }

  async idsOf(runner: QueryRunner, productId: number, firstId: number, count: number): Promise<number[]> {
    if (count === 1 || (await this.idsAreConsecutive())) {
      return Array.from({ length: count }, (_, i) => firstId + i);
    }
    const rows: Array<{ id: number | string }> = await runner.query(
      'SELECT id FROM holds FORCE INDEX (PRIMARY) WHERE id >= ? AND product_id = ? ORDER BY id LIMIT ?',
      [firstId, productId, count],
    );
    return rows.map((r) => Number(r.id));
  }

  private idsAreConsecutive(): Promise<boolean> {
    this.consecutive ??= this.dataSource
      .query('SELECT @@innodb_autoinc_lock_mode AS mode, @@auto_increment_increment AS step')
      .then((rows: Array<{ mode: number | string; step: number | string }>) => Number(rows[0].mode) <= 1 && Number(rows[0].step) === 1)
      .catch(() => {
        this.consecutive = undefined;
        return false;
      });
    return this.consecutive;
  }
}
