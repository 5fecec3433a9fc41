import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { HoldAlreadyUsedError, HoldExpiredError, HoldNotFoundError, OrderNotFoundError } from '../common/errors';
import { lineTotal } from '../common/money';
import { runInTransaction } from '../database/transaction';
import { IdempotencyClaim, IdempotencyService } from '../common/idempotency/idempotency.service';
import { Hold } from '../hold/hold.entity';
import { MetricsService } from '../observability/metrics.service';
import { Product } from '../product/product.entity';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersQuery } from './dto/list-orders.query';
import { OrderListRow, OrderPage, OrderResponse, orderListItem, toOrderResponse } from './dto/order.response';
import { Order } from './order.entity';

/** Called inside the order's creation transaction, right after the order row is written. */
export interface OrderCreatedHook {
  onOrderCreated(runner: QueryRunner, order: Order): Promise<void>;
}

@Injectable()
export class OrderService {
  private createdHook: OrderCreatedHook | undefined;
  private readonly logger = new Logger('order');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: MetricsService,
  ) {}

  /** Lets the payment module apply webhooks that arrived before the order existed. */
  setCreatedHook(hook: OrderCreatedHook): void {
    this.createdHook = hook;
  }

  /**
   * Turns an active, unexpired hold into a pending order, in one transaction that locks the hold
   * row (pessimistic_write): of any number of concurrent attempts for one hold, one converts it and
   * the others see it converted. The clock is read after the lock, so a hold counted as lapsed by a
   * concurrent reservation (which locks lapsed holds) can no longer convert. The hold's units move
   * from the hold to the order and stay reserved. Throws HoldNotFoundError, HoldAlreadyUsedError,
   * HoldExpiredError. With an Idempotency-Key claim, the key and this answer are recorded in the
   * same transaction.
   */
  async create(dto: CreateOrderDto, claim?: IdempotencyClaim): Promise<OrderResponse> {
    const order = await runInTransaction(this.dataSource, async (runner) => {
      const hold = await runner.manager
        .createQueryBuilder(Hold, 'h')
        .where('h.id = :id', { id: dto.hold_id })
        .setLock('pessimistic_write')
        .getOne();
      if (!hold) throw new HoldNotFoundError();
      const now = new Date();
      if (hold.status === 'converted') throw new HoldAlreadyUsedError(await this.orderIdOfHold(runner, hold.id));
      if (hold.status === 'expired' || hold.expiresAt.getTime() <= now.getTime()) throw new HoldExpiredError();

      const product = await runner.manager.findOneOrFail(Product, { where: { id: hold.productId }, select: { id: true, price: true } });
      const row = runner.manager.create(Order, {
        holdId: hold.id,
        productId: hold.productId,
        qty: hold.qty,
        unitPrice: product.price,
        total: lineTotal(product.price, hold.qty),
        status: 'pending',
        createdAt: now,
        updatedAt: now,
      });
      const result: { insertId: number } = await runner.query(
        'INSERT INTO orders (hold_id, product_id, qty, unit_price, total, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [row.holdId, row.productId, row.qty, row.unitPrice, row.total, row.status, row.createdAt, row.updatedAt],
      );
      row.id = Number(result.insertId);
      await runner.query(`UPDATE holds SET status = 'converted' WHERE id = ? AND status = 'active'`, [hold.id]);
      if (this.createdHook) await this.createdHook.onOrderCreated(runner, row);
      const response = toOrderResponse(row);
      if (claim) await this.idempotency.record(runner, claim, 201, response);
      return response;
    });
    this.logger.log({ msg: 'order.created', order_id: order.id, hold_id: order.hold_id, product_id: order.product_id, qty: order.qty, status: order.status });
    this.metrics.orderCreated();
    return order;
  }

  private async orderIdOfHold(runner: QueryRunner, holdId: number): Promise<number> {
    const rows: Array<{ id: number }> = await runner.query('SELECT id FROM orders WHERE hold_id = ?', [holdId]);
    return Number(rows[0].id);
  }

  /**
   * One page of orders with their products, in one statement whatever the page size (a join, not
   * a query per order). Keyset pagination on the primary key: stable while orders are added.
   */
  async list(query: ListOrdersQuery): Promise<OrderPage> {
    const where = ['o.id > ?'];
    const params: unknown[] = [query.afterId];
    if (query.status) {
      where.push('o.status = ?');
      params.push(query.status);
    }
    if (query.productId !== undefined) {
      where.push('o.product_id = ?');
      params.push(query.productId);
    }
    const rows: OrderListRow[] = await this.dataSource.query(
      `SELECT o.id, o.hold_id, o.product_id, o.qty, o.unit_price, o.total, o.status, o.created_at, o.updated_at,
              p.name AS product_name
         FROM orders o JOIN products p ON p.id = o.product_id
        WHERE ${where.join(' AND ')}
        ORDER BY o.id
        LIMIT ?`,
      [...params, query.limit + 1],
    );
    const page = rows.slice(0, query.limit).map(orderListItem);
    const next = rows.length > query.limit ? page[page.length - 1].id : null;
    return { data: page, next_after_id: next };
  }

  /** The order with its product's id and name. Throws OrderNotFoundError. */
  async findOne(id: number): Promise<OrderResponse> {
    const order = await this.dataSource.getRepository(Order).findOne({ where: { id }, relations: { product: true } });
    if (!order) throw new OrderNotFoundError();
    return toOrderResponse(order, order.product);
  }
}
