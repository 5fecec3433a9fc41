import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { HoldAlreadyUsedError, HoldExpiredError, HoldNotFoundError } from '../common/errors';
import { TransactionService } from '../database/transaction.service';
import { holdStatusAt } from '../hold/hold-lapse';
import { HoldService } from '../hold/hold.service';
import { IdempotencyClaim, IdempotencyService } from '../idempotency/idempotency.service';
import { MetricsService } from '../observability/metrics.service';
import { CreateOrderDto } from '../order/dto/create-order.dto';
import { OrderResponse, toOrderResponse } from '../order/dto/order.response';
import { OrderService } from '../order/order.service';
import { ProductService } from '../product/product.service';
import { StockService } from '../product/stock.service';
import { SettlePaymentService } from './settle-payment.service';

/**
 * Placing an order: hold → order → payments that arrived early → the Idempotency-Key record, in
 * one transaction.
 */
@Injectable()
export class PlaceOrderService {
  private readonly logger = new Logger('order');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: TransactionService,
    private readonly holds: HoldService,
    private readonly products: ProductService,
    private readonly orders: OrderService,
    private readonly stock: StockService,
    private readonly payments: SettlePaymentService,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Turns an active, unexpired hold into a pending order, payable until ORDER_PAYMENT_TTL_SECONDS
   * from now. The hold row is locked first
   * (pessimistic_write): of any number of concurrent attempts for one hold, one converts it and
   * the others see it converted. The clock is read after the lock, so a hold counted as lapsed by a
   * concurrent reservation (which keeps lapsed holds locked) can no longer convert. The hold's
   * units move from the hold to the order and stay reserved. Throws HoldNotFoundError,
   * HoldAlreadyUsedError, HoldExpiredError. With an Idempotency-Key claim, the key and this answer
   * are recorded in the same transaction. With a `buyer` (BUYER_AUTH=jwt) only the buyer's own
   * hold can become their order: another buyer's hold is HoldNotFoundError, as an unknown id.
   */
  async place(dto: CreateOrderDto, claim?: IdempotencyClaim, buyer: string | null = null): Promise<OrderResponse> {
    const order = await this.transactions.run(async (tx) => {
      const hold = await this.holds.lockForOrder(tx, dto.hold_id);
      if (!hold || (buyer !== null && hold.buyer !== buyer)) throw new HoldNotFoundError();
      const now = new Date();
      const status = holdStatusAt(hold, now);
      if (status === 'converted') throw new HoldAlreadyUsedError(await this.orders.idOfHold(tx, hold.id));
      if (status === 'expired') throw new HoldExpiredError();

      const unitPrice = await this.products.priceOf(tx, hold.productId);
      const expiresAt = new Date(now.getTime() + this.config.orderPaymentTtlSeconds * 1000);
      const order = await this.orders.insert(tx, {
        holdId: hold.id,
        productId: hold.productId,
        qty: hold.qty,
        unitPrice,
        now,
        expiresAt,
        buyer: hold.buyer ?? null,
      });
      await this.holds.markConverted(tx, hold.id);
      await this.stock.ordered(tx, hold.productId, hold.id, order.id, now);
      await this.payments.settleDeferred(tx, order);
      const response = toOrderResponse(order);
      if (claim) await this.idempotency.fill(tx, [{ claim, status: 201, body: response }]);
      return response;
    });
    this.logger.log({ msg: 'order.created', order_id: order.id, hold_id: order.hold_id, product_id: order.product_id, qty: order.qty, status: order.status });
    this.metrics.orderCreated();
    return order;
  }
}
