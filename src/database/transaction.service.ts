import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { ServiceUnavailableError } from '../common/errors';
import { MetricsService } from '../observability/metrics.service';
import { retryReason } from '../common/db-errors';

const MAX_TX_ATTEMPTS = 4;

/**
 * One running transaction, as the owning services receive it: the manager bound to its connection
 * (every statement of the use case goes through it) and a hook for work that must wait for the
 * commit (cache refreshes, log lines of a locked section).
 */
export interface Tx {
  readonly manager: EntityManager;
  /**
   * Runs `fn` once this transaction has committed; never for an attempt that rolled back, never
   * while its rows are locked. Errors of `fn` are logged and do not affect the request.
   */
  afterCommit(fn: () => void | Promise<void>): void;
}

/**
 * Opens the one transaction of a use case. A deadlock or lock-wait timeout rolls everything back
 * and runs the work again, at most MAX_TX_ATTEMPTS times (each retry counted in
 * `tx_retries_total` and logged as `tx.retry`), then answers 503 `unavailable`. The work must
 * therefore be safe to re-run: it may touch the database only through `tx.manager`.
 * Sessions run READ COMMITTED (see data-source.ts); a use case whose statements must all read one
 * snapshot (the admin's sales figures) asks for REPEATABLE READ.
 */
@Injectable()
export class TransactionService {
  private readonly logger = new Logger('tx');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  async run<T>(work: (tx: Tx) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const runner = this.dataSource.createQueryRunner();
      const committed: Array<() => void | Promise<void>> = [];
      try {
        await runner.connect();
        await runner.startTransaction(isolation);
        const result = await work({ manager: runner.manager, afterCommit: (fn) => committed.push(fn) });
        await runner.commitTransaction();
        this.runAfterCommit(committed);
        return result;
      } catch (err) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        const reason = retryReason(err);
        if (!reason) throw err;
        if (attempt >= MAX_TX_ATTEMPTS) {
          this.logger.warn({ msg: 'tx.gave_up', reason, attempt });
          throw new ServiceUnavailableError('The request met heavy contention; try again.');
        }
        this.logger.warn({ msg: 'tx.retry', reason, attempt });
        this.metrics.txRetry(reason);
      } finally {
        await runner.release();
      }
      // The back-off before the next attempt holds no connection: others may use it meanwhile.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5 * attempt)));
    }
  }

  private runAfterCommit(list: Array<() => void | Promise<void>>): void {
    for (const fn of list) {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.logger.warn({ msg: 'tx.after_commit_failed', err: err instanceof Error ? err.message : String(err) }));
    }
  }
}
