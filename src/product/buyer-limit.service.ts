import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Tx } from '../database/transaction.service';
import { HoldService } from '../hold/hold.service';
import { OrderService } from '../order/order.service';
import { Admission } from './availability';

/** Why a request was refused by the per-buyer limit: the limit and the units the buyer had. */
export interface BuyerRefusal {
  limit: number;
  taken: number;
}

/**
 * The per-buyer limit of one batch, in arrival order: a request passes while its buyer's units
 * (counted before the batch, plus what the batch granted them so far) and its own stay within
 * the limit. Requests without a buyer pass. Refusals are kept for the answers (409 with `limit`
 * and `taken`).
 */
export class BuyerAdmission implements Admission {
  readonly refusals = new Map<number, BuyerRefusal>();

  constructor(
    private readonly limit: number,
    private readonly buyers: Array<string | null>,
    private readonly taken: Map<string, number>,
  ) {}

  admits(index: number, qty: number): boolean {
    const buyer = this.buyers[index];
    if (buyer === null || buyer === undefined) return true;
    const taken = this.taken.get(buyer) ?? 0;
    if (taken + qty <= this.limit) return true;
    this.refusals.set(index, { limit: this.limit, taken });
    return false;
  }

  granted(index: number, qty: number): void {
    const buyer = this.buyers[index];
    if (buyer !== null && buyer !== undefined) this.taken.set(buyer, (this.taken.get(buyer) ?? 0) + qty);
  }
}

/**
 * The product's `max_per_buyer`, decided for a batch of holds under the product's row lock (the
 * caller, StockService.reserve, holds it): every hold of the product is inserted under that lock,
 * so the count cannot miss one, whichever instance placed it. Sessions read committed, so the
 * count sees every order and payment committed before it.
 *
 * A buyer's units are those of their holds that still count (active, not lapsed), their pending
 * orders inside the payment window and their paid orders: the lapse rules of stock, so a lapsed
 * hold or an expired or cancelled order frees the allowance exactly when it frees the units.
 */
@Injectable()
export class BuyerLimitService implements OnApplicationBootstrap {
  private readonly logger = new Logger('product');

  constructor(
    private readonly holds: HoldService,
    private readonly orders: OrderService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** With BUYER_AUTH=off a limit cannot be enforced (there are no buyers): said once, at start. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.buyerAuth !== 'off') return;
    try {
      const rows = await this.dataSource.query<Array<{ id: string | number }>>('SELECT id FROM products WHERE max_per_buyer IS NOT NULL ORDER BY id LIMIT 10');
      if (rows.length === 0) return;
      this.logger.warn({
        msg: 'buyer_limit.not_enforced',
        product_ids: rows.map((r) => Number(r.id)),
        reason: 'BUYER_AUTH=off: holds have no buyer, so max_per_buyer cannot be enforced',
      });
    } catch (err) {
      this.logger.warn({ msg: 'buyer_limit.check_failed', err: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * The admission of a batch whose requests come from `buyers` (null: anonymous), or undefined when
   * the product has no limit or the batch no buyer. One statement: the limit, and the buyers' units
   * only when there is a limit. Its only locks are on lapsed rows of these buyers that nobody else
   * holds (SKIP LOCKED; the reservation's own read has locked those of the product already).
   */
  async admission(tx: Tx, productId: number, buyers: Array<string | null>, now: Date): Promise<BuyerAdmission | undefined> {
    const distinct = [...new Set(buyers.filter((b): b is string => b !== null))];
    if (distinct.length === 0) return undefined;
    // Each row of the buyers' parts counts only when the product has a limit (else none is read).
    const limited = { sql: 'EXISTS (SELECT 1 FROM products l WHERE l.id = ? AND l.max_per_buyer IS NOT NULL)', params: [productId] };
    const holds = this.holds.buyerUnitsRead(productId, distinct, now, limited);
    const orders = this.orders.buyerUnitsRead(productId, distinct, now, limited);
    const rows = await tx.manager.query<Array<{ buyer: string | null; units: string | number | null }>>(
      `(SELECT NULL AS buyer, max_per_buyer AS units FROM products WHERE id = ?)
       UNION ALL ${holds.sql}
       UNION ALL ${orders.sql}`,
      [productId, ...holds.params, ...orders.params],
    );
    const limit = rows.find((r) => r.buyer === null)?.units;
    if (limit === null || limit === undefined) return undefined;
    const taken = new Map<string, number>();
    for (const r of rows) if (r.buyer !== null) taken.set(r.buyer, (taken.get(r.buyer) ?? 0) + Number(r.units));
    return new BuyerAdmission(Number(limit), buyers, taken);
  }
}
