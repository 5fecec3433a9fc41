import { Logger } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { ServiceUnavailableError } from '../common/errors';
import { retryReason } from './db-errors';

export const MAX_TX_ATTEMPTS = 4;

export interface RetryListener {
  (reason: 'deadlock' | 'lock_wait_timeout', attempt: number): void;
}

const logger = new Logger('tx');

/** Who hears about retries of a data source's transactions (the metrics, per application). */
const retryListeners = new WeakMap<DataSource, RetryListener>();

export function setRetryListener(dataSource: DataSource, listener: RetryListener): void {
  retryListeners.set(dataSource, listener);
}

const AFTER_COMMIT = 'afterCommit';

/**
 * Registers work to run once the runner's transaction has committed (never on a rolled-back
 * attempt): refreshing caches and the like, which must not run while rows are locked nor see
 * uncommitted data. Errors of `fn` are logged and do not affect the request.
 */
export function afterCommit(runner: QueryRunner, fn: () => void | Promise<void>): void {
  const list = (runner.data[AFTER_COMMIT] ??= []) as Array<() => void | Promise<void>>;
  list.push(fn);
}

function runAfterCommit(runner: QueryRunner): void {
  const list = runner.data[AFTER_COMMIT] as Array<() => void | Promise<void>> | undefined;
  for (const fn of list ?? []) {
    Promise.resolve()
      .then(fn)
      .catch((err: unknown) => logger.warn({ msg: 'tx.after_commit_failed', err: err instanceof Error ? err.message : String(err) }));
  }
}

/**
 * Runs `work` in one transaction on its own QueryRunner (READ COMMITTED, set per session).
 * A deadlock or lock-wait timeout rolls everything back and runs `work` again, at most
 * MAX_TX_ATTEMPTS times, then answers 503 `unavailable`. `work` must therefore be safe to re-run:
 * it may only touch the database through `runner`. The runner is always released.
 */
export async function runInTransaction<T>(
  dataSource: DataSource,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const runner = dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      const result = await work(runner);
      await runner.commitTransaction();
      runAfterCommit(runner);
      return result;
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      const reason = retryReason(err);
      if (!reason) throw err;
      if (attempt >= MAX_TX_ATTEMPTS) {
        logger.warn({ msg: 'tx.gave_up', reason, attempt });
        throw new ServiceUnavailableError('The request met heavy contention; try again.');
      }
      logger.warn({ msg: 'tx.retry', reason, attempt });
      retryListeners.get(dataSource)?.(reason, attempt);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5 * attempt)));
    } finally {
      await runner.release();
    }
  }
}
