import { Inject, Injectable, Logger } from '@nestjs/common';
import { QueryRunner } from 'typeorm';
import { ProductNotFoundError, ValidationFailedError } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { afterCommit } from '../database/transaction';
import { MetricsService } from '../observability/metrics.service';
import { ProductCacheService } from './cache/product-cache.service';
import { Product } from './product.entity';
import { allocate, availableUnits } from './availability';

export interface Reservation {
  /** Per requested quantity, in order: granted or not. */
  granted: boolean[];
  /** Per requested quantity: the availability it was judged against (for 409 `available`). */
  seen: number[];
  /** The time read after the product row was locked; holds are stamped with it. */
  now: Date;
}

/**
 * The one place where stock moves. Every method runs inside the caller's transaction (the
 * QueryRunner it is given) and changes the product row under its row lock, so two writers of the
 * same product are always serialized by InnoDB.
 *
 * Lock order everywhere: a product row before hold rows (reserve, expiry), or one hold/order row
 * and then its product row (orders and payments); holds are only ever claimed with SKIP LOCKED
 * while a product row is held, so no cycle can form.
 *
 * Every change also asks the availability cache to re-read the product once the caller's
 * transaction has committed (never while the row is locked, never for a rolled-back attempt).
 */
@Injectable()
export class StockService {
  private readonly logger = new Logger('stock');

  constructor(
    private readonly cache: ProductCacheService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Reserves `qtys` (one entry per hold to create) of a product. Locks the product row with
   * `pessimistic_write` (SELECT … FOR UPDATE), counts lapsed holds, grants in order and adds the
   * granted units to `reserved`. Throws ProductNotFoundError. Nothing is written for a refusal.
   */
  async reserve(runner: QueryRunner, productId: number, qtys: number[]): Promise<Reservation> {
    const product = await this.lockProduct(runner, productId);
    const now = new Date();
    const lapsed = await this.lapsedUnits(runner, productId, now);
    const { granted, seen } = allocate(availableUnits(product.stock, product.reserved, lapsed), qtys);
    const units = qtys.reduce((sum, qty, i) => (granted[i] ? sum + qty : sum), 0);
    if (units > 0) {
      await runner.query('UPDATE products SET reserved = reserved + ?, updated_at = ? WHERE id = ?', [units, now, productId]);
      this.refreshAfterCommit(runner, productId);
    }
    return { granted, seen, now };
  }

  /**
   * Units of the product's active holds already past `expires_at`. A locking read with SKIP
   * LOCKED: a hold that an order transaction holds right now is not counted (it may be turning
   * into an order), and the holds counted stay locked, so none of them can be converted until this
   * transaction ends. Under-counting for a moment is safe; counting a converted hold would oversell.
   */
  async lapsedUnits(runner: QueryRunner, productId: number, now: Date): Promise<number> {
    const rows: Array<{ units: string | number | null }> = await runner.query(
      `SELECT COALESCE(SUM(qty), 0) AS units FROM holds
        WHERE product_id = ? AND status = 'active' AND expires_at <= ?
        FOR UPDATE SKIP LOCKED`,
      [productId, now],
    );
    return Number(rows[0]?.units ?? 0);
  }

  /** Returns units of expired holds or cancelled orders to availability. Locks the product row. */
  async release(runner: QueryRunner, productId: number, units: number): Promise<void> {
    await runner.query('UPDATE products SET reserved = reserved - ?, updated_at = ? WHERE id = ?', [units, new Date(), productId]);
    this.refreshAfterCommit(runner, productId);
  }

  /** A paid order's units leave the shop: out of `stock` and out of `reserved`. Locks the product row. */
  async consume(runner: QueryRunner, productId: number, units: number): Promise<void> {
    await runner.query('UPDATE products SET stock = stock - ?, reserved = reserved - ?, updated_at = ? WHERE id = ?', [
      units,
      units,
      new Date(),
      productId,
    ]);
    this.refreshAfterCommit(runner, productId);
  }

  /**
   * Adds units to `stock` (admin restock) under the product row lock. Throws ProductNotFoundError,
   * or ValidationFailedError when the new stock would pass 2^53−1.
   */
  async restock(runner: QueryRunner, productId: number, units: number): Promise<void> {
    const product = await this.lockProduct(runner, productId);
    if (Number(product.stock) + units > Number.MAX_SAFE_INTEGER) {
      throw new ValidationFailedError([{ field: 'restock', problem: `would make stock exceed ${Number.MAX_SAFE_INTEGER}` }]);
    }
    await runner.query('UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ?', [units, new Date(), productId]);
    this.refreshAfterCommit(runner, productId);
  }

  /**
   * SELECT … FOR UPDATE of the product row (pessimistic_write). Throws ProductNotFoundError.
   * The wait is measured (`stock_lock_wait_seconds`); a long one is logged once the transaction
   * has committed, never while the row is held.
   */
  private async lockProduct(runner: QueryRunner, productId: number): Promise<Product> {
    const started = process.hrtime.bigint();
    const product = await runner.manager
      .createQueryBuilder(Product, 'p')
      .select(['p.id', 'p.stock', 'p.reserved'])
      .where('p.id = :productId', { productId })
      .setLock('pessimistic_write')
      .getOne();
    const waitMs = Number(process.hrtime.bigint() - started) / 1e6;
    this.metrics.stockLockWait(waitMs / 1000);
    if (waitMs >= this.config.stockLockWaitLogMs) {
      afterCommit(runner, () => this.logger.warn({ msg: 'stock.lock_wait', product_id: productId, wait_ms: Math.round(waitMs) }));
    }
    if (!product) throw new ProductNotFoundError();
    return product;
  }

  private refreshAfterCommit(runner: QueryRunner, productId: number): void {
    afterCommit(runner, () => this.cache.changed(productId));
  }
}
