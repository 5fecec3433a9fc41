import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { runInTransaction } from '../database/transaction';
import { MetricsService } from '../observability/metrics.service';
import { StockService } from '../product/stock.service';

export const SWEEP_BATCH = 500;

export interface SweepResult {
  holds: number;
  units: number;
}

/**
 * Marks active holds past `expires_at` as `expired` and returns their units to the product.
 * Availability never waits for it (lapsed holds already count as free); it keeps the tables
 * tidy and the lapsed sums short. Safe with any number of instances sweeping at once.
 */
@Injectable()
export class HoldExpiryJob {
  private readonly logger = new Logger('hold-expiry');
  private lastRunAt = 0;
  private running = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stock: StockService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Ticks every second; sweeps when HOLD_SWEEP_INTERVAL_SECONDS have passed since the last sweep.
   * (A cron expression alone cannot say "every 7 s" or "every 90 s"; the tick makes any interval
   * from 1 to 3600 s exact to the second.)
   */
  @Cron(CronExpression.EVERY_SECOND, { name: 'hold-expiry' })
  async tick(): Promise<void> {
    const now = Date.now();
    if (this.running || now - this.lastRunAt < this.config.holdSweepIntervalSeconds * 1000 - 50) return;
    this.running = true;
    this.lastRunAt = now;
    try {
      await this.sweep();
    } catch (err) {
      this.logger.warn({ msg: 'hold.sweep_failed', err: err instanceof Error ? err.message : String(err) });
    } finally {
      this.running = false;
    }
  }

  /** Sweeps until no lapsed hold is left; returns how many holds and units it released. */
  async sweep(now = new Date()): Promise<SweepResult> {
    const total: SweepResult = { holds: 0, units: 0 };
    const productIds: Array<{ product_id: number }> = await this.dataSource.query(
      `SELECT DISTINCT product_id FROM holds WHERE status = 'active' AND expires_at <= ? ORDER BY product_id`,
      [now],
    );
    for (const { product_id: productId } of productIds) {
      for (;;) {
        const done = await this.sweepProduct(Number(productId), now);
        total.holds += done.holds;
        total.units += done.units;
        if (done.holds < SWEEP_BATCH) break;
      }
    }
    return total;
  }

  /**
   * One transaction: lock the product row, claim up to SWEEP_BATCH of its lapsed holds with
   * FOR UPDATE SKIP LOCKED (a hold another sweep or an order holds is left to it), mark them
   * expired and release their units. A hold can only be claimed while `active`, so never twice.
   */
  async sweepProduct(productId: number, now: Date): Promise<SweepResult> {
    const result = await runInTransaction(this.dataSource, async (runner) => {
      await runner.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [productId]);
      const claimed: Array<{ id: number; qty: number }> = await runner.query(
        `SELECT id, qty FROM holds
          WHERE product_id = ? AND status = 'active' AND expires_at <= ?
          ORDER BY expires_at LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED`,
        [productId, now],
      );
      if (claimed.length === 0) return { holds: 0, units: 0 };
      const ids = claimed.map((h) => Number(h.id));
      const units = claimed.reduce((sum, h) => sum + Number(h.qty), 0);
      await runner.query(`UPDATE holds SET status = 'expired' WHERE id IN (?) AND status = 'active'`, [ids]);
      await this.stock.release(runner, productId, units);
      return { holds: ids.length, units };
    });
    if (result.holds > 0) {
      this.logger.log({ msg: 'hold.expired', product_id: productId, holds: result.holds, units: result.units });
      this.metrics.holdsExpiredBy(result.holds);
    }
    return result;
  }
}
