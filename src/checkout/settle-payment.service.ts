import { Injectable, Logger } from '@nestjs/common';
import { IdempotencyKeyReusedError } from '../common/errors';
import { TransactionService, Tx } from '../database/transaction.service';
import type { OrderStatus } from '../order/order-status';
import type { Order } from '../order/order.entity';
import { OrderService } from '../order/order.service';
import { MetricsService } from '../observability/metrics.service';
import { PaymentWebhookDto } from '../payment/dto/payment-webhook.dto';
import { WebhookResponse } from '../payment/dto/webhook.response';
import { ORDER_STATUS_AFTER, PaymentOutcome } from '../payment/payment-outcome';
import { isOrderLapsed } from '../order/order-lapse';
import { PaymentService, webhookResponse } from '../payment/payment.service';
import { StockService } from '../product/stock.service';

/**
 * Settling a payment: payment event (PaymentService) → order transition (OrderService) → stock
 * (StockService), in one transaction, exactly once per idempotency key.
 */
@Injectable()
export class SettlePaymentService {
  private readonly logger = new Logger('payment');

  constructor(
    private readonly transactions: TransactionService,
    private readonly payments: PaymentService,
    private readonly orders: OrderService,
    private readonly stock: StockService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Records a signed gateway event once per idempotency key and applies it, in one transaction.
   * The event row is written before the order row is locked, and order creation writes the order
   * before it reads the waiting events (settleDeferred): whichever of the two runs second sees the
   * other (or InnoDB reports a deadlock and the loser runs again), so an event for an order being
   * created is never lost. Throws IdempotencyKeyReusedError (nothing changes).
   */
  async handleWebhook(dto: PaymentWebhookDto): Promise<WebhookResponse> {
    const response = await this.transactions
      .run((tx) => this.settle(tx, dto))
      .catch((err: unknown) => {
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

  private async settle(tx: Tx, dto: PaymentWebhookDto): Promise<WebhookResponse> {
    const received = new Date();
    const eventId = await this.payments.record(tx, dto, received);
    if (eventId === undefined) return this.payments.replay(tx, dto);
    const order = await this.orders.lockForPayment(tx, dto.order_id);
    if (!order) return webhookResponse(dto, 'deferred', null);
    // The clock is read after the order's lock: a reservation that counted this order as lapsed
    // kept it locked until it committed, so the deadline has passed for this payment too.
    const now = new Date();
    const result = await this.decide(tx, order, dto.status, eventId, now);
    await this.payments.settle(tx, [eventId], result, order.status, now);
    return webhookResponse(dto, result, order.status);
  }

  /**
   * What a payment does to the locked order. Past the payment deadline the order is expired
   * (marked so here, its units released, when the expiry job has not done it yet): a success is
   * `late` and leaves a refund due, a failure changes nothing. Otherwise the first final state wins.
   */
  private async decide(tx: Tx, order: Order, outcome: PaymentOutcome, eventId: number, now: Date): Promise<'applied' | 'ignored' | 'late'> {
    if (isOrderLapsed(order, now)) await this.expire(tx, order, eventId, now);
    if (order.status === 'expired') {
      if (outcome === 'failure') return 'ignored';
      await this.orders.markRefundDue(tx, order);
      return 'late';
    }
    return (await this.apply(tx, order, outcome, eventId, now)) ? 'applied' : 'ignored';
  }

  /**
   * The locked order's payment window has closed: it expires and its units return to the sale (an
   * `order_expired` movement naming the late event that found it so).
   */
  private async expire(tx: Tx, order: Order, eventId: number, now: Date): Promise<void> {
    const transition = await this.orders.moveTo(tx, order, 'expired', now);
    if (transition) await this.stock.release(tx, order.productId, [{ kind: 'order_expired', qty: order.qty, orderId: order.id, paymentEventId: eventId }]);
  }

  /**
   * Inside the transaction that has just created `order`: settles the events that arrived before
   * it. The first recorded event decides the order's state; the others become `ignored`. Locks the
   * waiting event rows, then (through StockService) the product row.
   */
  async settleDeferred(tx: Tx, order: Order): Promise<void> {
    const waiting = await this.payments.lockDeferred(tx, order.id);
    if (waiting.length === 0) return;
    const now = order.createdAt;
    await this.apply(tx, order, waiting[0].status, waiting[0].id, now);
    await this.payments.settle(tx, [waiting[0].id], 'applied', order.status, now);
    const rest = waiting.slice(1).map((e) => e.id);
    await this.payments.settle(tx, rest, 'ignored', order.status, now);
    const orderStatus: OrderStatus = order.status;
    tx.afterCommit(() => this.logger.log({ msg: 'payment.applied_deferred', order_id: order.id, order_status: orderStatus, ignored: rest.length }));
  }

  /**
   * Moves the locked order by the payment's outcome and its units as the transition says:
   * consumed on success, released on failure. False when the order was final already (the first
   * final state wins). The movement (`sale` or `cancel`) names the order and the event `eventId`.
   */
  private async apply(tx: Tx, order: Order, outcome: PaymentOutcome, eventId: number, now: Date): Promise<boolean> {
    const transition = await this.orders.moveTo(tx, order, ORDER_STATUS_AFTER[outcome], now);
    if (!transition) return false;
    if (transition.stock === 'consume') await this.stock.consume(tx, order.productId, { orderId: order.id, qty: order.qty, paymentEventId: eventId });
    else await this.stock.release(tx, order.productId, [{ kind: 'cancel', qty: order.qty, orderId: order.id, paymentEventId: eventId }]);
    return true;
  }
}
