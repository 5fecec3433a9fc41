import { Inject, Injectable, Logger } from '@nestjs/common';
import { ProductNotFoundError, ValidationFailedError } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Tx } from '../database/transaction.service';
import { HoldService } from '../hold/hold.service';
import { OrderService } from '../order/order.service';
import { MetricsService } from '../observability/metrics.service';
import { allocate } from './availability';
import { ProductCacheService } from './cache/product-cache.service';
import { StockChangesService } from '../changes/stock-changes.service';
import { LedgerService } from '../ledger/ledger.service';
import { Product } from './product.entity';
import { BUYER_UNITS_PART, BuyerLimitService, BuyerRefusal, distinctBuyers, TaggedUnits } from './buyer-limit.service';
import type { SqlPart } from '../common/sql-part';

/** The reads of the reservation's statement, by the tag (`part`) of their rows. */
const Part = { Product: 0, LapsedHolds: 1, LapsedOrders: 2, Limit: 4 } as const;

export interface Reservation {
  /** Per requested quantity, in order: granted or not. */
  granted: boolean[];
  /** Per requested quantity: the availability it was judged against (for 409 `available`). */
  seen: number[];
  /** The time read after the product row was locked; holds are stamped with it. */
  now: Date;
  /** Per request refused by the product's `max_per_buyer` (by index): the limit and the buyer's units. */
  buyerRefusals: Map<number, BuyerRefusal>;
}

/** Units that return to availability, and the hold or order (and payment event) they belong to. */
export interface Release {
  kind: 'hold_lapsed' | 'hold_abandoned' | 'cancel' | 'order_expired';
  qty: number;
  holdId?: number;
  orderId?: number;
  paymentEventId?: number;
}

/** A paid order's units, and the payment event that paid it. */
export interface Sale {
  orderId: number;
  qty: number;
  paymentEventId: number;
}

/**
 * The one place where stock moves: every change of a product's `stock` and `reserved` is a method
 * here, run inside the caller's transaction (`tx`) under the product's row lock, so two writers of
 * one product are always serialized by InnoDB, on any instance.
 *
 * Lock order everywhere: a product row before hold and order rows (reserve, expiry), or one
 * hold/order row and then its product row (orders and payments); holds and orders are only ever
 * claimed with SKIP LOCKED while a product row is held, so no cycle can form.
 *
 * Every change also asks the availability cache to re-read the product once the transaction has
 * committed (never while the row is locked, never for a rolled-back attempt), and tells the live
 * availability streams (StockChangesService, on every instance) in the same after-commit hook. The changes are raw
 * relative UPDATEs (`reserved = reserved + ?`): one statement each, on the hottest row of a drop.
 *
 * The stock ledger: every change also appends its movements (LedgerService, one row per hold,
 * order or restock it belongs to) in the same transaction, so `stock` and `reserved` always equal
 * the sums of the product's movements; a rollback or a killed process loses both or neither. The
 * one change split in two calls is the reservation: `reserve` adds the batch's units, and the
 * caller, once the holds have their ids, hands them to `held` in the same transaction.
 *
 * Lapse by read and the ledger: a reservation counts the units of lapsed holds and orders as
 * available but does not change `reserved` for them (it stays one UPDATE of the granted units), so
 * it writes no movement for them either. A lapsed hold or order keeps its units in `reserved` until
 * it is marked expired (the expiry job, or a late payment for an order), and that change writes
 * the `hold_lapsed` / `order_expired` movement. So `reserved` = units of holds stored `active` and
 * orders stored `pending`, lapsed or not (the audit's invariant), and may briefly exceed `stock`
 * while re-granted lapsed units wait for the sweep.
 */
@Injectable()
export class StockService {
  private readonly logger = new Logger('stock');

  constructor(
    private readonly holds: HoldService,
    private readonly orders: OrderService,
    private readonly cache: ProductCacheService,
    private readonly changes: StockChangesService,
    private readonly metrics: MetricsService,
    private readonly ledger: LedgerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly buyerLimits: BuyerLimitService,
  ) {}

  /**
   * Reserves `qtys` (one entry per hold to create) of a product: locks the product row, counts its
   * lapsed holds and lapsed orders (which stay locked), grants in order against what is available and adds the
   * granted units to `reserved`. With `buyers` (one per quantity, BUYER_AUTH=jwt) a request must
   * also stay within the product's `max_per_buyer` (BuyerLimitService), decided under the same
   * lock. Throws ProductNotFoundError. Nothing is written for a refusal.
   *
   * The lock and both lapsed reads are one statement (a UNION ALL of locking reads, each row
   * tagged with the read it comes from), so the row lock is held for two round trips only: this
   * UPDATE and the caller's INSERT before the commit. With buyers, the same statement reads the
   * product's limit and, when the product had one at its last reservation here, the buyers' units
   * (BuyerLimitService.countRead); those reads come after the lock in the statement, and a read
   * committed session's non-locking read sees what was committed by the time it runs, so the count
   * sees every hold inserted before the lock was granted. The lapsed reads' `now` is read before
   * the lock is granted: a hold lapsing while the lock is awaited is counted by the next batch. The
   * granted holds are stamped with the time read once the lock is granted (`Reservation.now`), so
   * a hold that waited for the lock still lives HOLD_TTL_SECONDS from its grant, not from before
   * the wait (it was answered already lapsed when the wait outlasted its life).
   */
  async reserve(tx: Tx, productId: number, qtys: number[], buyers?: Array<string | null>): Promise<Reservation> {
    const now = new Date();
    const distinct = buyers ? distinctBuyers(buyers) : [];
    const parts: SqlPart[] = [
      {
        sql: `SELECT ${Part.Product} AS part, NULL AS buyer, CAST(stock AS SIGNED) - CAST(reserved AS SIGNED) AS units FROM products WHERE id = ? FOR UPDATE`,
        params: [productId],
      },
      this.holds.lapsedUnitsRead(productId, now, Part.LapsedHolds, distinct),
      this.orders.lapsedUnitsRead(productId, now, Part.LapsedOrders, distinct),
    ];
    const count = buyers ? this.buyerLimits.countRead(productId, distinct) : undefined;
    if (buyers)
      parts.push({ sql: `SELECT ${Part.Limit} AS part, NULL AS buyer, max_per_buyer AS units FROM products WHERE id = ? FOR UPDATE`, params: [productId] });
    if (count) parts.push(count);
    const rows = await this.measuredLock(tx, productId, () =>
      tx.manager.query<TaggedUnits[]>(
        parts.map((p) => `(${p.sql})`).join(' UNION ALL '),
        parts.flatMap((p) => p.params),
      ),
    );
    const lockedAt = new Date();
    const byPart = (part: number) => rows.filter((r) => Number(r.part) === part);
    const product = byPart(Part.Product);
    if (product.length === 0) throw new ProductNotFoundError();
    const lapsed = [...byPart(Part.LapsedHolds), ...byPart(Part.LapsedOrders)];
    const available = [...product, ...lapsed].reduce((sum, r) => sum + Number(r.units), 0);
    // The per-buyer limit, under the same lock (BuyerLimitService); only a batch with buyers asks.
    const limit = byPart(Part.Limit)[0]?.units;
    const admission = buyers
      ? await this.buyerLimits.admission(
          tx,
          productId,
          buyers,
          limit === null || limit === undefined ? null : Number(limit),
          lapsed,
          count ? byPart(BUYER_UNITS_PART) : undefined,
        )
      : undefined;
    const { granted, seen } = allocate(available, qtys, admission);
    const units = qtys.reduce((sum, qty, i) => (granted[i] ? sum + qty : sum), 0);
    if (units > 0) {
      const holds = granted.filter(Boolean).length;
      await tx.manager.query('UPDATE products SET reserved = reserved + ?, holds_granted = holds_granted + ?, updated_at = ? WHERE id = ?', [
        units,
        holds,
        lockedAt,
        productId,
      ]);
      this.refreshAfterCommit(tx, productId);
    }
    return { granted, seen, now: lockedAt, buyerRefusals: admission?.refusals ?? new Map<number, BuyerRefusal>() };
  }

  /**
   * The movements of the holds a reservation has just granted (one `hold` row each, one multi-row
   * INSERT), in the reservation's transaction: `reserve` added exactly their units to `reserved`.
   */
  async held(tx: Tx, productId: number, holds: Array<{ id: number; qty: number }>, at: Date): Promise<void> {
    await this.ledger.append(
      tx,
      holds.map((h) => ({ productId, kind: 'hold', stockDelta: 0, reservedDelta: h.qty, holdId: h.id })),
      at,
    );
  }

  /**
   * Returns units of ended holds (lapsed, abandoned) and of cancelled or expired orders to
   * availability, one movement each. The caller holds the product row lock.
   */
  async release(tx: Tx, productId: number, releases: Release[]): Promise<void> {
    const units = releases.reduce((sum, r) => sum + r.qty, 0);
    if (units === 0) return;
    const now = new Date();
    await tx.manager.query('UPDATE products SET reserved = reserved - ?, updated_at = ? WHERE id = ?', [units, now, productId]);
    await this.ledger.append(
      tx,
      releases.map((r) => ({
        productId,
        kind: r.kind,
        stockDelta: 0,
        reservedDelta: -r.qty,
        holdId: r.holdId,
        orderId: r.orderId,
        paymentEventId: r.paymentEventId,
      })),
      now,
    );
    this.refreshAfterCommit(tx, productId);
  }

  /** A paid order's units leave the shop: out of `stock` and out of `reserved` (a `sale` movement). Locks the product row. */
  async consume(tx: Tx, productId: number, sale: Sale): Promise<void> {
    const now = new Date();
    await tx.manager.query('UPDATE products SET stock = stock - ?, reserved = reserved - ?, updated_at = ? WHERE id = ?', [sale.qty, sale.qty, now, productId]);
    await this.ledger.append(
      tx,
      [{ productId, kind: 'sale', stockDelta: -sale.qty, reservedDelta: -sale.qty, orderId: sale.orderId, paymentEventId: sale.paymentEventId }],
      now,
    );
    this.refreshAfterCommit(tx, productId);
  }

  /**
   * A hold has become a pending order: the units pass from the hold to the order and the figures
   * do not change; the `order` movement (both deltas 0) keeps the history whole. Takes no lock.
   */
  async ordered(tx: Tx, productId: number, holdId: number, orderId: number, at: Date): Promise<void> {
    await this.ledger.append(tx, [{ productId, kind: 'order', stockDelta: 0, reservedDelta: 0, holdId, orderId }], at);
  }

  /** A product has just been created with `stock` units: its `opening` movement. */
  async opened(tx: Tx, productId: number, stock: number, at: Date): Promise<void> {
    await this.ledger.append(tx, [{ productId, kind: 'opening', stockDelta: stock, reservedDelta: 0 }], at);
  }

  /**
   * Adds units to `stock` (admin restock, a `restock` movement) under the product row lock. Throws
   * ProductNotFoundError, or ValidationFailedError when the new stock would pass 2^53−1.
   */
  async restock(tx: Tx, productId: number, units: number): Promise<void> {
    const product = await this.lock(tx, productId);
    if (Number(product.stock) + units > Number.MAX_SAFE_INTEGER) {
      throw new ValidationFailedError([{ field: 'restock', problem: `would make stock exceed ${Number.MAX_SAFE_INTEGER}` }]);
    }
    const now = new Date();
    await tx.manager.query('UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ?', [units, now, productId]);
    await this.ledger.append(tx, [{ productId, kind: 'restock', stockDelta: units, reservedDelta: 0 }], now);
    this.refreshAfterCommit(tx, productId);
  }

  /**
   * SELECT … FOR UPDATE of the product row (pessimistic_write), before any hold row of it is
   * touched. Throws ProductNotFoundError. The wait is measured (`stock_lock_wait_seconds`); a long
   * one is logged once the transaction has committed, never while the row is held.
   */
  async lock(tx: Tx, productId: number): Promise<Pick<Product, 'id' | 'stock' | 'reserved'>> {
    const product = await this.measuredLock(tx, productId, () =>
      tx.manager
        .getRepository(Product)
        .createQueryBuilder('p')
        .select(['p.id', 'p.stock', 'p.reserved'])
        .where('p.id = :productId', { productId })
        .setLock('pessimistic_write')
        .getOne(),
    );
    if (!product) throw new ProductNotFoundError();
    return product;
  }

  /** Runs the statement that takes the product's row lock, measuring (and maybe logging) the wait. */
  private async measuredLock<T>(tx: Tx, productId: number, statement: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    const result = await statement();
    const waitMs = Number(process.hrtime.bigint() - started) / 1e6;
    this.metrics.stockLockWait(waitMs / 1000);
    if (waitMs >= this.config.stockLockWaitLogMs) {
      tx.afterCommit(() => this.logger.warn({ msg: 'stock.lock_wait', product_id: productId, wait_ms: Math.round(waitMs) }));
    }
    return result;
  }

  private refreshAfterCommit(tx: Tx, productId: number): void {
    tx.afterCommit(() => {
      this.cache.changed(productId);
      this.changes.changed(productId);
    });
  }
}
