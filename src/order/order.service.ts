import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { OrderNotFoundError } from '../common/errors';
import { lineTotal } from '../common/money';
import { partTag, type SqlPart } from '../common/sql-part';
import { Tx } from '../database/transaction.service';
import { ListOrdersQuery } from './dto/list-orders.query';
import { OrderListRow, OrderPage, OrderResponse, orderListItem } from './dto/order.response';
import { FinalOrderStatus, OrderTransition, transitionTo } from './order-transitions';
import { Order } from './order.entity';
import { lapsedOrderSql, lapsedOrderUnitsRead } from './order-lapse';

/** The statuses an order never leaves. */
const FINAL_STATUSES: FinalOrderStatus[] = ['paid', 'cancelled', 'expired'];

/** What a new order is made of: its hold, the product's price at this moment, its payment deadline. */
export interface NewOrder {
  holdId: number;
  productId: number;
  qty: number;
  unitPrice: string;
  now: Date;
  expiresAt: Date;
  /** The hold's buyer; null when BUYER_AUTH=off. */
  buyer: string | null;
}

export interface ExpiredOrders {
  orders: number;
  units: number;
  /** The orders expired, each with its units (for their movements); absent on totals. */
  ended?: Array<{ id: number; qty: number }>;
}

/**
 * Orders with their product's name. The one read that joins another module's table (products,
 * read-only): a page of orders, or one order, comes in one statement instead of a product read
 * per order.
 */
const ORDER_COLUMNS = `o.id, o.hold_id, o.product_id, o.qty, o.unit_price, o.total, o.status, o.expires_at, o.refund_due,
         o.created_at, o.updated_at, o.buyer, p.name AS product_name`;
const SELECT_ORDERS = `SELECT ${ORDER_COLUMNS} FROM orders o JOIN products p ON p.id = o.product_id`;

/**
 * The index a listing page must read when it filters on a status, since the optimizer cannot be
 * trusted to find it: `(status, id)`, or with a product `(product_id, status, id)`: exactly the
 * orders of one stored status, already in id order, so a page reads about as many rows as it
 * shows. Left to itself, MariaDB plans `status=pending` as a walk of the primary key from
 * `after_id` (its ORDER BY … LIMIT shortcut assumes the matching rows are spread evenly, but
 * pending orders are the newest few: on 220,000 orders the walk read 210,051 rows for a page of
 * 50), and a rare status with a product as a walk of `(product_id, id)` or `(status, id)`
 * filtering the other. `refund_due=true` is left to the optimizer (its own `(refund_due, id)` is
 * tiny), as are the filters without a status, whose plans read about a page.
 */
function listingIndex(query: ListOrdersQuery): string | undefined {
  // A buyer's orders are few: `(buyer, id)` reads about a page, and the optimizer finds it.
  if (query.status === undefined || query.refundDue === true || query.buyer !== undefined) return undefined;
  return query.productId === undefined ? 'idx_orders_status_id' : 'idx_orders_product_status_id';
}

/**
 * The orders table: every statement that writes it is here. Methods that take a `tx` run inside
 * the caller's transaction; the caller holds the locks each one names.
 */
@Injectable()
export class OrderService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts a pending order at the given unit price (`total = unit_price × qty`, exactly). The
   * caller holds the hold's row lock; the unique key on `hold_id` refuses a second order for it.
   */
  async insert(tx: Tx, order: NewOrder): Promise<Order> {
    const repo = tx.manager.getRepository(Order);
    const row = repo.create({
      holdId: order.holdId,
      productId: order.productId,
      qty: order.qty,
      unitPrice: order.unitPrice,
      total: lineTotal(order.unitPrice, order.qty),
      status: 'pending',
      expiresAt: order.expiresAt,
      refundDue: false,
      createdAt: order.now,
      updatedAt: order.now,
      buyer: order.buyer,
    });
    await repo.insert(row);
    row.id = Number(row.id);
    return row;
  }

  /** The id of the order made from this hold (the caller knows there is one). */
  async idOfHold(tx: Tx, holdId: number): Promise<number> {
    const order = await tx.manager.getRepository(Order).findOneOrFail({ where: { holdId }, select: { id: true } });
    return Number(order.id);
  }

  /** Locks one order (pessimistic_write) so its payment can move it; null when there is none. */
  async lockForPayment(tx: Tx, id: number): Promise<Order | null> {
    const order = await tx.manager.getRepository(Order).createQueryBuilder('o').where('o.id = :id', { id }).setLock('pessimistic_write').getOne();
    if (order) Object.assign(order, { id: Number(order.id), productId: Number(order.productId), qty: Number(order.qty) });
    return order;
  }

  /**
   * Moves the locked order to `target` by the transition table, as `UPDATE … WHERE status = :from`,
   * and updates `order` to match. Returns the transition taken (its units must then move as it
   * says), or undefined when the order is final already: the first final state wins. `updated_at`
   * becomes `now`, except for an expiry: the status changed at `expires_at`, whoever marks it later
   * (orderUpdatedAt).
   */
  async moveTo(tx: Tx, order: Order, target: FinalOrderStatus, now: Date): Promise<OrderTransition | undefined> {
    const transition = transitionTo(order.status, target);
    if (!transition) return undefined;
    const changedAt = transition.to === 'expired' ? order.expiresAt : now;
    const res = await tx.manager.getRepository(Order).update({ id: order.id, status: transition.from }, { status: transition.to, updatedAt: changedAt });
    if (res.affected !== 1) throw new Error(`order ${order.id} was not ${transition.from} while locked`);
    order.status = transition.to;
    order.updatedAt = changedAt;
    return transition;
  }

  /**
   * The read of the product's lapsed order units (pending past their payment deadline; rows
   * `part`, `buyer`, `units`: see lapseRule.unitsRead), as a part of the reservation's statement
   * (StockService.reserve). A locking read with SKIP LOCKED, exactly as for lapsed holds: an order
   * whose payment is being settled right now is not counted, and the orders counted stay locked
   * until the caller's transaction ends, so none of them can be paid meanwhile (its payment then
   * finds it expired). It runs under the product's row lock, in the statement that takes it, on
   * every reservation. With `buyers`, these buyers' lapsed units come in rows of their own.
   */
  lapsedUnitsRead(productId: number, now: Date, part: number, buyers?: string[]): SqlPart {
    return lapsedOrderUnitsRead(productId, now, part, buyers);
  }

  /** Products that have lapsed orders at `now`, for the expiry job. No locks. */
  async productsWithLapsedOrders(now: Date): Promise<number[]> {
    const rows = await this.dataSource
      .getRepository(Order)
      .createQueryBuilder('o')
      .select('DISTINCT o.product_id', 'product_id')
      .where(lapsedOrderSql('o', ':now'), { now })
      .orderBy('o.product_id')
      .getRawMany<{ product_id: number | string }>();
    return rows.map((r) => Number(r.product_id));
  }

  /**
   * Claims up to `limit` of the product's lapsed orders with FOR UPDATE SKIP LOCKED (an order being
   * paid or swept elsewhere is left to it) and marks them expired, each with `updated_at` its own
   * `expires_at` (when its status changed, not when the sweep came: orderUpdatedAt); returns what it
   * claimed. The caller holds the product's row lock and returns the units to it.
   */
  async expireLapsed(tx: Tx, productId: number, now: Date, limit: number): Promise<Required<ExpiredOrders>> {
    const claimed: Array<{ id: number | string; qty: number | string }> = await tx.manager.query(
      `SELECT id, qty FROM orders o
        WHERE o.product_id = ? AND ${lapsedOrderSql('o')}
        ORDER BY o.expires_at LIMIT ${Number(limit)} FOR UPDATE SKIP LOCKED`,
      [productId, now],
    );
    if (claimed.length === 0) return { orders: 0, units: 0, ended: [] };
    const rows = claimed.map((o) => ({ id: Number(o.id), qty: Number(o.qty) }));
    await tx.manager.getRepository(Order).update({ id: In(rows.map((o) => o.id)), status: 'pending' }, { status: 'expired', updatedAt: () => 'expires_at' });
    return { orders: rows.length, units: rows.reduce((sum, o) => sum + o.qty, 0), ended: rows };
  }

  /**
   * Of these holds, the ones whose order is final (`paid`, `cancelled` or `expired` as stored)
   * and last changed at or before `cutoff`: their holds may go. A pending order, even one past its
   * deadline, keeps its hold. One statement on the unique key of `hold_id`. No locks.
   */
  async holdsWithOrderEndedBefore(holdIds: number[], cutoff: Date): Promise<number[]> {
    if (holdIds.length === 0) return [];
    const rows = await this.dataSource
      .getRepository(Order)
      .createQueryBuilder('o')
      .select('o.hold_id', 'hold_id')
      .where('o.hold_id IN (:...holdIds)', { holdIds })
      .andWhere('o.status IN (:...final)', { final: FINAL_STATUSES })
      .andWhere('o.updated_at <= :cutoff', { cutoff })
      .getRawMany<{ hold_id: number | string }>();
    return rows.map((r) => Number(r.hold_id));
  }

  /**
   * The locked, expired order was paid after its deadline: a refund is due. Its status does not
   * change, so neither does `updated_at` (it stays the order's `expires_at`).
   */
  async markRefundDue(tx: Tx, order: Order): Promise<void> {
    await tx.manager.getRepository(Order).update({ id: order.id }, { refundDue: true });
    order.refundDue = true;
  }

  /**
   * One page of orders with their products, in one statement whatever the page size. Keyset
   * pagination on the primary key: stable while orders are added. Reads the index listingIndex
   * names, if it names one.
   */
  async list(query: ListOrdersQuery): Promise<OrderPage> {
    const now = new Date();
    const where = ['o.id > ?'];
    const params: unknown[] = [query.afterId];
    if (query.refundDue !== undefined) {
      where.push('o.refund_due = ?');
      params.push(query.refundDue ? 1 : 0);
    }
    if (query.productId !== undefined) {
      where.push('o.product_id = ?');
      params.push(query.productId);
    }
    if (query.buyer !== undefined) {
      where.push('o.buyer = ?');
      params.push(query.buyer);
    }
    const index = listingIndex(query);
    const hint = index ? ` FORCE INDEX (${index})` : '';
    const limit = query.limit + 1;
    let rows: OrderListRow[];
    if (query.status === 'expired') {
      // Stored expired, or pending past the deadline (lapsed, not swept yet): no single range, and
      // a walk of the primary key reads every order between two runs of expired ones. So each half
      // reads at most a page on its own index, and the page is the first of both: stored expired
      // ones in id order on `(status, id)`; lapsed ones on `(status, expires_at)`, which holds
      // just them (the pending orders still inside their window, all of which `(status, id)`
      // would walk, lie beyond the deadline), sorted by id: they are few, the sweep marks them.
      const lapsedIndex = query.productId === undefined ? 'idx_orders_status_expires' : 'idx_orders_product_status_expires';
      const half = (status: string, index: string | undefined) =>
        `(SELECT o.id FROM orders o${index && hint ? ` FORCE INDEX (${index})` : ''} WHERE ${status} AND ${where.join(' AND ')} ORDER BY o.id LIMIT ${limit})`;
      rows = await this.dataSource.query(
        `SELECT ${ORDER_COLUMNS}
           FROM (${half(`o.status = 'expired'`, index)} UNION ALL ${half(lapsedOrderSql('o'), lapsedIndex)}) e
           JOIN orders o ON o.id = e.id JOIN products p ON p.id = o.product_id
          ORDER BY o.id LIMIT ${limit}`,
        [...params, now, ...params],
      );
    } else {
      if (query.status === 'pending') {
        // Only orders still inside their payment window; a lapsed one reads (and lists) as expired.
        where.push(`o.status = 'pending' AND o.expires_at > ?`);
        params.push(now);
      } else if (query.status) {
        where.push('o.status = ?');
        params.push(query.status);
      }
      const from = `FROM orders o${hint} JOIN products p ON p.id = o.product_id`;
      rows = await this.dataSource.query(`SELECT ${ORDER_COLUMNS} ${from} WHERE ${where.join(' AND ')} ORDER BY o.id LIMIT ?`, [...params, limit]);
    }
    const page = rows.slice(0, query.limit).map((row) => orderListItem(row, now));
    const next = rows.length > query.limit ? page[page.length - 1].id : null;
    return { data: page, next_after_id: next };
  }

  /**
   * The read of these buyers' orders of the product that are paid or stored `pending`, lapsed or
   * not (rows `part`, `buyer`, `units`), as a part of the per-buyer count (BuyerLimitService),
   * which takes off the lapsed pending ones the reservation's own read has locked: what is left are
   * the paid ones, those inside the payment window and lapsed ones another transaction holds right
   * now (a payment that arrived at their last instant), which may still count.
   */
  buyerUnitsRead(productId: number, buyers: string[], part: number): SqlPart {
    return {
      sql: `SELECT ${partTag(part)} AS part, o.buyer, o.qty AS units FROM orders o WHERE o.product_id = ? AND o.buyer IN (?) AND o.status IN ('pending', 'paid')`,
      params: [productId, buyers],
    };
  }

  /**
   * The order with its product's id and name. With a `buyer` (BUYER_AUTH=jwt) only that buyer's
   * order: another buyer's is not found, exactly as an unknown id. Throws OrderNotFoundError.
   */
  async findOne(id: number, buyer?: string | null): Promise<OrderResponse> {
    const rows: OrderListRow[] = buyer
      ? await this.dataSource.query(`${SELECT_ORDERS} WHERE o.id = ? AND o.buyer = ?`, [id, buyer])
      : await this.dataSource.query(`${SELECT_ORDERS} WHERE o.id = ?`, [id]);
    if (rows.length === 0) throw new OrderNotFoundError();
    return orderListItem(rows[0]);
  }
}
