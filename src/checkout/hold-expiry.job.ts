import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '../config/config';
import { TransactionService } from '../database/transaction.service';
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
      for (;;) {
        const done = await this.sweepProduct(productId, now);
        total.holds += done.holds;
        total.units += done.units;
        if (done.holds < SWEEP_BATCH) break;
      }
    }
    return total;
  }

  /**
   * One transaction: lock the product row, then claim up to SWEEP_BATCH of its lapsed holds with
   * SKIP LOCKED (a hold another sweep or an order holds is left to it), mark them expired and
   * release exactly their units. A hold can only be claimed while `active`, so never twice.
   */
  async sweepProduct(productId: number, now: Date): Promise<ExpiredHolds> {
    const result = await this.transactions.run(async (tx) => {
      await this.stock.lock(tx, productId);
      const expired = await this.holds.expireLapsed(tx, productId, now, SWEEP_BATCH);
      if (expired.units > 0) await this.stock.release(tx, productId, expired.units);
      return expired;
    });
    if (result.holds > 0) {
      this.logger.log({ msg: 'hold.expired', product_id: productId, holds: result.holds, units: result.units });
      this.metrics.holdsExpiredBy(result.holds);
    }
    return result;
  }

  /** Sweeps until no lapsed order (unpaid past its deadline) is left; returns what it released. */
  async sweepOrders(now = new Date()): Promise<ExpiredOrders> {
    const total: ExpiredOrders = { orders: 0, units: 0 };
    for (const productId of await this.orders.productsWithLapsedOrders(now)) {
      for (;;) {
        const done = await this.sweepProductOrders(productId, now);
        total.orders += done.orders;
        total.units += done.units;
        if (done.orders < SWEEP_BATCH) break;
      }
    }
    return total;
  }

  /**
   * One transaction: lock the product row, then claim up to SWEEP_BATCH of its lapsed orders with
   * SKIP LOCKED (an order being paid right now is left to its payment, which then finds it
   * expired), mark them expired and release exactly their units. Never twice: only a pending
   * order is claimed.
   */
  async sweepProductOrders(productId: number, now: Date): Promise<ExpiredOrders> {
    const result = await this.transactions.run(async (tx) => {
      await this.stock.lock(tx, productId);
      const expired = await this.orders.expireLapsed(tx, productId, now, SWEEP_BATCH);
      if (expired.units > 0) await this.stock.release(tx, productId, expired.units);
      return expired;
    });
    if (result.orders > 0) {
      this.logger.log({ msg: 'order.expired', product_id: productId, orders: result.orders, units: result.units });
      this.metrics.ordersExpiredBy(result.orders);
    }
    return result;
  }
}
