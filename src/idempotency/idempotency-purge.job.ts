import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IDEMPOTENCY_WINDOW_MS } from './idempotency.service';

/** Rows one purge statement deletes, so no statement holds many locks for long. */
const PURGE_SLICE = 5000;

/** Deletes Idempotency-Key records older than 24 h every ten minutes, so the table stays small. */
@Injectable()
export class IdempotencyPurgeJob {
  private readonly logger = new Logger('idempotency');

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Returns how many keys it deleted. (Raw SQL: the repository API has no DELETE … LIMIT.) */
  @Cron(CronExpression.EVERY_10_MINUTES, { name: 'idempotency-purge' })
  async purge(now = new Date()): Promise<number> {
    let total = 0;
    const cutoff = new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS);
    try {
      for (;;) {
        const res: { affectedRows: number } = await this.dataSource.query(`DELETE FROM idempotency_keys WHERE created_at <= ? LIMIT ${PURGE_SLICE}`, [cutoff]);
        total += res.affectedRows;
        if (res.affectedRows < PURGE_SLICE) break;
      }
    } catch (err) {
      this.logger.warn({ msg: 'idempotency.purge_failed', err: err instanceof Error ? err.message : String(err) });
    }
    if (total > 0) this.logger.log({ msg: 'idempotency.purged', keys: total });
    return total;
  }
}
