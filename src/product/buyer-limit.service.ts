import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Tx } from '../database/transaction.service';
import { HoldService } from '../hold/hold.service';
import { OrderService } from '../order/order.service';
import { Admission } from './availability';
import type { SqlPart } from '../common/sql-part';

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

/** A row of the reservation's statement: which read it comes from, a buyer or NULL, units. */
export interface TaggedUnits {
  part: string | number;
  buyer: string | null;
  units: string | number | null;
}

/** The parts of the per-buyer count in the reservation's statement (BuyerLimitService.countRead). */
export const BUYER_UNITS_PART = 3;

/**
 * Products on this instance whose `max_per_buyer` was set at their last reservation (their count
 * goes into the reservation's statement); beyond this many the oldest are forgotten.
 */
const LIMITED_KEPT = 10_000;

/**
 * The product's `max_per_buyer`, decided for a batch of holds under the product's row lock (the
 * caller, StockService.reserve, holds it): every hold of the product is inserted under that lock,
 * so the count cannot miss one, whichever instance placed it. Sessions read committed, so the
 * count sees every order and payment committed before it.
 *
 * A buyer's units are those of their holds that still count (active, not lapsed), their pending
 * orders inside the payment window and their paid orders: the lapse rules of stock, so a lapsed
 * hold or an expired or cancelled order frees the allowance exactly when it frees the units. A
 * lapsed hold or order that another transaction holds at that instant (an order or a payment at
 * its last moment, not committed yet) counts as taken until that transaction ends.
 *
 * How it is read, in the reservation's own statement (no round trip of its own): the product row
 * gives the limit; the lapsed reads, which lock every lapsed row nobody else holds, give these
 * buyers' lapsed units so locked; the count reads every hold of theirs stored `active` and every
 * order `pending` or `paid`. Count minus locked-lapsed is what still counts, the lapsed rows held
 * elsewhere included. The count is in the statement when the product had a limit at its last
 * reservation here; when a limit shows up without it, one more statement under the same lock reads
 * it.
 */
@Injectable()
export class BuyerLimitService implements OnApplicationBootstrap {
  private readonly logger = new Logger('product');
  private readonly limited = new Set<number>();

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
   * The per-buyer count for the reservation's statement, when the product had a limit at its last
   * reservation on this instance (else undefined: most products have none, and a limit that
   * appears since is read by `admission`). Rows tagged BUYER_UNITS_PART.
   */
  countRead(productId: number, buyers: string[]): SqlPart | undefined {
    if (buyers.length === 0 || !this.limited.has(productId)) return undefined;
    return this.countParts(productId, buyers);
  }

  /**
   * The admission of a batch whose requests come from `buyers` (null: anonymous), or undefined
   * when the product has no limit (`limit` null) or the batch no buyer. `lockedLapsed` are the
   * lapsed reads' rows (these buyers' lapsed units locked by this transaction), `count` the
   * count's rows when `countRead` put it in the reservation's statement; without them it is read
   * now, under the same lock.
   */
  async admission(
    tx: Tx,
    productId: number,
    buyers: Array<string | null>,
    limit: number | null,
    lockedLapsed: TaggedUnits[],
    count: TaggedUnits[] | undefined,
  ): Promise<BuyerAdmission | undefined> {
    if (limit === null) {
      this.limited.delete(productId);
      return undefined;
    }
    this.remember(productId);
    const distinct = distinctBuyers(buyers);
    if (distinct.length === 0) return undefined;
    if (!count) {
      const read = this.countParts(productId, distinct);
      count = await tx.manager.query<TaggedUnits[]>(read.sql, read.params);
    }
    const taken = new Map<string, number>();
    const add = (buyer: string | null, units: string | number | null) => {
      if (buyer !== null) taken.set(buyer, (taken.get(buyer) ?? 0) + Number(units));
    };
    for (const r of count) add(r.buyer, r.units);
    // The lapsed rows this transaction has locked no longer count; those held elsewhere stay in.
    for (const r of lockedLapsed) add(r.buyer, -Number(r.units));
    return new BuyerAdmission(limit, buyers, taken);
  }

  private countParts(productId: number, buyers: string[]): SqlPart {
    const holds = this.holds.buyerUnitsRead(productId, buyers, BUYER_UNITS_PART);
    const orders = this.orders.buyerUnitsRead(productId, buyers, BUYER_UNITS_PART);
    return { sql: `(${holds.sql}) UNION ALL (${orders.sql})`, params: [...holds.params, ...orders.params] };
  }

  private remember(productId: number): void {
    if (this.limited.has(productId)) return;
    if (this.limited.size >= LIMITED_KEPT) this.limited.delete(this.limited.values().next().value as number);
    this.limited.add(productId);
  }
}

/** The distinct buyers of a batch, anonymous requests left out. */
export function distinctBuyers(buyers: Array<string | null>): string[] {
  return [...new Set(buyers.filter((b): b is string => b !== null))];
}
