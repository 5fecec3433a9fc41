import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '../config/config';
import { TransactionService, Tx } from '../database/transaction.service';
import { ExpiredHolds, HoldCursor, HoldService } from '../hold/hold.service';
import { MetricsService } from '../observability/metrics.service';
import { ExpiredOrders, OrderService } from '../order/order.service';
import { Release, StockService } from '../product/stock.service';

const SWEEP_BATCH = 500;

/**
 * The purge's pace, chosen with `npm run bench:purge` (1,000,000 old holds, the hot-product hold
 * load, sweeps every second): chunks of 1,000 back to back for 500 ms of every sweep deleted
 * about 14,500 holds/s and raised the load's p99 from 52 to 117 ms; chunks of 500 with a 100 ms
 * pause between them delete about 3,000 holds/s (a million in under six minutes at one sweep a
 * second, about half an hour at the default five) and left it within the machine's noise (25.5
 * and 24 ms). The DELETEs then hold the database about a fifth of the budget, not all of it.
 */
/** Rows one purge statement deletes (and converted holds one step checks against their orders). */
const PURGE_CHUNK = 500;
/** Longest one sweep spends deleting ended holds; a bigger backlog waits for the next sweeps. */
const PURGE_BUDGET_MS = 500;
/** Pause between two chunks of one purge (counted in its budget): the hot path's statements get the database meanwhile. */
const PURGE_PAUSE_MS = 100;

const DAY_MS = 86_400_000;

/** The retention purge's bounds; the defaults are PURGE_CHUNK and PURGE_BUDGET_MS (tests use small chunks). */
export interface PurgeBounds {
  chunk?: number;
  budgetMs?: number;
  pauseMs?: number;
}

export interface PurgedHolds {
  holds: number;
  /** Nothing older than the retention was left when the purge stopped (false: out of time). */
  done: boolean;
}

/**
 * Expiring holds and unpaid orders: holds (HoldService) or orders (OrderService) → stock
 * (StockService). Marks lapsed holds as `expired` and
 * returns their units to the product. Then deletes holds that ended more than
 * HOLD_RETENTION_DAYS ago, in bounded chunks (purgeEnded).
 * Availability never waits for it (lapsed holds already count as free); it keeps the tables
 * tidy and the lapsed sums short. Safe with any number of instances sweeping at once.
 */
@Injectable()
export class HoldExpiryJob {
  private readonly logger = new Logger('hold-expiry');
  private lastRunAt = 0;
  private running = false;
  /** Where the purge of converted holds goes on from (they may wait on orders still pending). */
  private convertedCursor: HoldCursor | undefined;

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
      await this.purgeEnded();
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
        (done) => done.ended.map((h) => ({ kind: 'hold_lapsed', qty: h.qty, holdId: h.id })),
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
        (done) => done.ended.map((o) => ({ kind: 'order_expired', qty: o.qty, orderId: o.id })),
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
   * Deletes holds that ended more than HOLD_RETENTION_DAYS before `now`: `expired` ones (as
   * stored: a lapsed hold still `active` waits for the sweep to release its units) by their
   * `expires_at`, and `converted` ones whose order is final (paid, cancelled or expired as stored)
   * and last changed before the cutoff, their own `expires_at` too. Chunks of at most `chunk`
   * rows, each its own short autocommitted statement on an index, `pauseMs` apart, until nothing is left or
   * `budgetMs` has passed (the rest waits for the next sweep), so a backlog never holds locks for
   * long nor keeps the job from expiring holds. Ended rows are never locked by the hot paths, and
   * two instances purging at once only wait on each other's chunk. Orders and payment events are
   * never deleted. Returns how many holds this call deleted.
   */
  async purgeEnded(now = new Date(), bounds: PurgeBounds = {}): Promise<PurgedHolds> {
    const chunk = bounds.chunk ?? PURGE_CHUNK;
    const deadline = Date.now() + (bounds.budgetMs ?? PURGE_BUDGET_MS);
    const pause = (): Promise<void> =>
      new Promise((resolve) => setTimeout(resolve, Math.min(bounds.pauseMs ?? PURGE_PAUSE_MS, Math.max(0, deadline - Date.now()))));
    const cutoff = new Date(now.getTime() - this.config.holdRetentionDays * DAY_MS);
    let purged = 0;
    let done = false;
    try {
      for (;;) {
        const deleted = await this.holds.deleteExpiredBefore(cutoff, chunk);
        purged += deleted;
        if (deleted < chunk) break;
        await pause();
        if (Date.now() >= deadline) return { holds: purged, done: false };
      }
      while (Date.now() < deadline) {
        const candidates = await this.holds.convertedBefore(cutoff, this.convertedCursor, chunk);
        const ended = await this.orders.holdsWithOrderEndedBefore(
          candidates.map((h) => h.id),
          cutoff,
        );
        purged += await this.holds.deleteConverted(ended);
        this.convertedCursor = candidates.length < chunk ? undefined : candidates[candidates.length - 1];
        if (this.convertedCursor === undefined) {
          done = true;
          break;
        }
        await pause();
      }
    } catch (err) {
      this.logger.warn({ msg: 'hold.purge_failed', err: err instanceof Error ? err.message : String(err) });
    } finally {
      if (purged > 0) {
        this.logger.log({ msg: 'hold.purged', holds: purged });
        this.metrics.holdsPurgedBy(purged);
      }
    }
    return { holds: purged, done };
  }

  /**
   * Transactions of one product until a batch comes back short: each locks the product row, lets
   * `expire` claim up to SWEEP_BATCH lapsed rows with SKIP LOCKED (a row another sweep, an order or
   * a payment holds is left to it) and mark them expired, and releases exactly their units. A row
   * is only claimed while live, so never twice. `releases` names the units of each row claimed (one
   * movement each). `report` runs after each commit and says how many rows the batch claimed.
   */
  private async inBatches<T>(productId: number, expire: (tx: Tx) => Promise<T>, releases: (done: T) => Release[], report: (done: T) => number): Promise<void> {
    for (;;) {
      const done = await this.transactions.run(async (tx) => {
        await this.stock.lock(tx, productId);
        const expired = await expire(tx);
        await this.stock.release(tx, productId, releases(expired));
        return expired;
      });
      if (report(done) < SWEEP_BATCH) return;
    }
  }
}
