import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '../config/config';
import { TransactionService, Tx } from '../database/transaction.service';
import { ExpiredHolds, HoldService } from '../hold/hold.service';
import { MetricsService } from '../observability/metrics.service';
import { ExpiredOrders, OrderService } from '../order/order.service';
import { StockService } from '../product/stock.service';

const SWEEP_BATCH = 500;

/**
 * Expiring holds and unpaid orders: holds (HoldService) or orders (OrderService) → stock
 * (StockService). Marks lapsed holds as `expired` and
 * returns their units to the product.
 * Availability never waits for it (lapsed holds already count as free); it keeps the tables
 * tidy and the lapsed sums short. Safe with any number of instances sweeping at once.
 */
@Injectable()
export class HoldExpiryJob {
  private readonly logger = new Logger('hold-expiry');
  private lastRunAt = 0;
  private running = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: TransactionService,
    private readonly holds: HoldService,
    private readonly orders: OrderService,
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
      await this.sweepOrders();
    } catch (err) {
      this.logger.warn({ msg: 'hold.sweep_failed', err: err instanceof Error ? err.message : String(err) });
    } finally {
      this.running = false;
    }
  }

  /** Sweeps until no lapsed hold is left; returns how many holds and units it released. */
  async sweep(now = new Date()): Promise<ExpiredHolds> {
    const total: ExpiredHolds = { holds: 0, units: 0 };
    for (const productId of await this.holds.productsWithLapsedHolds(now)) {
      await this.inBatches(
        productId,
        (tx) => this.holds.expireLapsed(tx, productId, now, SWEEP_BATCH),
        (done) => {
          total.holds += done.holds;
          total.units += done.units;
          if (done.holds > 0) {
            this.logger.log({ msg: 'hold.expired', product_id: productId, holds: done.holds, units: done.units });
            this.metrics.holdsExpiredBy(done.holds);
          }
          return done.holds;
        },
      );
    }
    return total;
  }

  /** Sweeps until no lapsed order (unpaid past its deadline) is left; returns what it released. */
  async sweepOrders(now = new Date()): Promise<ExpiredOrders> {
    const total: ExpiredOrders = { orders: 0, units: 0 };
    for (const productId of await this.orders.productsWithLapsedOrders(now)) {
      await this.inBatches(
        productId,
        (tx) => this.orders.expireLapsed(tx, productId, now, SWEEP_BATCH),
        (done) => {
          total.orders += done.orders;
          total.units += done.units;
          if (done.orders > 0) {
            this.logger.log({ msg: 'order.expired', product_id: productId, orders: done.orders, units: done.units });
            this.metrics.ordersExpiredBy(done.orders);
          }
          return done.orders;
        },
      );
    }
    return total;
  }

  /**
   * Transactions of one product until a batch comes back short: each locks the product row, lets
   * `expire` claim up to SWEEP_BATCH lapsed rows with SKIP LOCKED (a row another sweep, an order or
   * a payment holds is left to it) and mark them expired, and releases exactly their units. A row
   * is only claimed while live, so never twice. `report` runs after each commit and says how many
   * rows the batch claimed.
   */
  private async inBatches<T extends { units: number }>(productId: number, expire: (tx: Tx) => Promise<T>, report: (done: T) => number): Promise<void> {
    for (;;) {
      const done = await this.transactions.run(async (tx) => {
        await this.stock.lock(tx, productId);
        const expired = await expire(tx);
        if (expired.units > 0) await this.stock.release(tx, productId, expired.units);
        return expired;
      });
      if (report(done) < SWEEP_BATCH) return;
    }
  }
}
