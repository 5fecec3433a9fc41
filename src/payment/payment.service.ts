import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { IdempotencyKeyReusedError } from '../common/errors';
import { isDuplicateKey } from '../database/db-errors';
import { afterCommit, runInTransaction } from '../database/transaction';
import { MetricsService } from '../observability/metrics.service';
import { Order, OrderStatus } from '../order/order.entity';
import { OrderCreatedHook, OrderService } from '../order/order.service';
import { PaymentOutcome, transitionFor } from '../order/order-transitions';
import { StockService } from '../product/stock.service';
import { PaymentWebhookDto } from './dto/payment-webhook.dto';
import { WebhookResponse } from './dto/webhook.response';
import { PaymentEventResult } from './payment-event.entity';

interface StoredEvent {
  id: number;
  order_id: number;
  status: PaymentOutcome;
  result: PaymentEventResult;
  order_status: OrderStatus | null;
}

interface LockedOrder {
  id: number;
  product_id: number;
  qty: number;
  status: OrderStatus;
}

@Injectable()
export class PaymentService implements OrderCreatedHook, OnModuleInit {
  private readonly logger = new Logger('payment');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly stock: StockService,
    private readonly orders: OrderService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.orders.setCreatedHook(this);
  }

  /**
   * Records a signed gateway event once per idempotency key and applies it, in one transaction.
   * The unique key settles concurrent deliveries: the first inserts, the others wait on its row
   * and then find it (`duplicate`). The event row is written before the order row is locked, and
   * order creation writes the order before it reads the waiting events: whichever of the two runs
   * second sees the other (or InnoDB reports a deadlock and the loser runs again), so an event for
   * an order being created is never lost. Throws IdempotencyKeyReusedError (nothing changes).
   */
  async handleWebhook(dto: PaymentWebhookDto): Promise<WebhookResponse> {
    const response = await this.settle(dto).catch((err: unknown) => {
      if (err instanceof IdempotencyKeyReusedError) {
        this.logger.warn({ msg: 'payment.conflict', idempotency_key: dto.idempotency_key, order_id: dto.order_id, status: dto.status, result: 'conflict' });
        this.metrics.webhookEvent('conflict');
      }
      throw err;
    });
    this.logger.log({
      msg: `payment.${response.result}`,
      idempotency_key: dto.idempotency_key,
      order_id: dto.order_id,
      status: dto.status,
      result: response.result,
      order_status: response.order_status,
    });
    this.metrics.webhookEvent(response.result);
    return response;
  }

  private settle(dto: PaymentWebhookDto): Promise<WebhookResponse> {
    return runInTransaction(this.dataSource, async (runner) => {
      const now = new Date();
      const eventId = await this.insertEvent(runner, dto, now);
      if (eventId === undefined) return this.replay(runner, dto);

      const orders: LockedOrder[] = await runner.query('SELECT id, product_id, qty, status FROM orders WHERE id = ? FOR UPDATE', [
        dto.order_id,
      ]);
      if (orders.length === 0) return this.respond(dto, 'deferred', null);

      const { result, orderStatus } = await this.applyOutcome(runner, normalize(orders[0]), dto.status, now);
      await runner.query('UPDATE payment_events SET result = ?, order_status = ?, settled_at = ? WHERE id = ?', [
        result,
        orderStatus,
        now,
        eventId,
      ]);
      return this.respond(dto, result, orderStatus);
    });
  }

  /**
   * OrderCreatedHook: inside the order's creation transaction, settles the events that arrived
   * before the order. The first recorded event decides the order's state; the others become
   * `ignored`. Locks the waiting event rows, then (through StockService) the product row.
   */
  async onOrderCreated(runner: QueryRunner, order: Order): Promise<void> {
    const waiting: Array<{ id: number; status: PaymentOutcome }> = await runner.query(
      `SELECT id, status FROM payment_events WHERE order_id = ? AND result = 'deferred' ORDER BY id FOR UPDATE`,
      [order.id],
    );
    if (waiting.length === 0) return;
    const now = order.createdAt;
    const target: LockedOrder = { id: order.id, product_id: order.productId, qty: order.qty, status: order.status };
    const { orderStatus } = await this.applyOutcome(runner, target, waiting[0].status, now);
    order.status = orderStatus;
    order.updatedAt = now;
    await runner.query(`UPDATE payment_events SET result = 'applied', order_status = ?, settled_at = ? WHERE id = ?`, [
      orderStatus,
      now,
      waiting[0].id,
    ]);
    const rest = waiting.slice(1).map((e) => Number(e.id));
    if (rest.length > 0) {
      await runner.query(`UPDATE payment_events SET result = 'ignored', order_status = ?, settled_at = ? WHERE id IN (?)`, [
        orderStatus,
        now,
        rest,
      ]);
    }
    afterCommit(runner, () => {
      this.logger.log({ msg: 'payment.applied_deferred', order_id: order.id, order_status: orderStatus, ignored: rest.length });
    });
  }

  /** Inserts the event row; undefined when the key exists already (the row is committed then). */
  private async insertEvent(runner: QueryRunner, dto: PaymentWebhookDto, now: Date): Promise<number | undefined> {
    try {
      const res: { insertId: number } = await runner.query(
        `INSERT INTO payment_events (idempotency_key, order_id, status, result, order_status, received_at)
         VALUES (?, ?, ?, 'deferred', NULL, ?)`,
        [dto.idempotency_key, dto.order_id, dto.status, now],
      );
      return Number(res.insertId);
    } catch (err) {
      if (isDuplicateKey(err)) return undefined;
      throw err;
    }
  }

  /** A key seen before: the same answer as then, or 422 when the event differs. */
  private async replay(runner: QueryRunner, dto: PaymentWebhookDto): Promise<WebhookResponse> {
    const rows: StoredEvent[] = await runner.query(
      'SELECT id, order_id, status, result, order_status FROM payment_events WHERE idempotency_key = ?',
      [dto.idempotency_key],
    );
    const stored = rows[0];
    if (Number(stored.order_id) !== dto.order_id || stored.status !== dto.status) throw new IdempotencyKeyReusedError();
    if (stored.result === 'deferred') return this.respond(dto, 'deferred', null);
    return this.respond(dto, 'duplicate', stored.order_status);
  }

  /**
   * Moves a locked order by the transition table (`UPDATE … WHERE status = :from`) and moves its
   * units: consumed on success, released on failure. A final order is left alone (`ignored`).
   */
  private async applyOutcome(
    runner: QueryRunner,
    order: LockedOrder,
    outcome: PaymentOutcome,
    now: Date,
  ): Promise<{ result: 'applied' | 'ignored'; orderStatus: OrderStatus }> {
    const transition = transitionFor(order.status, outcome);
    if (!transition) return { result: 'ignored', orderStatus: order.status };
    const res: { affectedRows: number } = await runner.query('UPDATE orders SET status = ?, updated_at = ? WHERE id = ? AND status = ?', [
      transition.to,
      now,
      order.id,
      transition.from,
    ]);
    if (res.affectedRows !== 1) throw new Error(`order ${order.id} was not ${transition.from} while locked`);
    if (transition.stock === 'consume') await this.stock.consume(runner, order.product_id, order.qty);
    else await this.stock.release(runner, order.product_id, order.qty);
    return { result: 'applied', orderStatus: transition.to };
  }

  private respond(dto: PaymentWebhookDto, result: WebhookResponse['result'], orderStatus: OrderStatus | null): WebhookResponse {
    return { idempotency_key: dto.idempotency_key, order_id: dto.order_id, result, order_status: orderStatus };
  }
}

function normalize(row: LockedOrder): LockedOrder {
  return { id: Number(row.id), product_id: Number(row.product_id), qty: Number(row.qty), status: row.status };
}
