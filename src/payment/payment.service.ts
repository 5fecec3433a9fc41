import { Injectable } from '@nestjs/common';
import { IdempotencyKeyReusedError } from '../common/errors';
import { isDuplicateKey } from '../common/db-errors';
import { Tx } from '../database/transaction.service';
import type { OrderStatus } from '../order/order-status';
import { PaymentWebhookDto } from './dto/payment-webhook.dto';
import { WebhookResponse, WebhookResult } from './dto/webhook.response';
import { PaymentEvent, PaymentEventResult } from './payment-event.entity';
import { PaymentOutcome } from './payment-outcome';

/** An event that arrived before its order, waiting to be settled when the order is created. */
export interface DeferredEvent {
  id: number;
  status: PaymentOutcome;
}

/**
 * The payment_events table: one row per webhook idempotency key, written in the same transaction
 * as the event's effect. Every method runs inside the caller's transaction.
 */
@Injectable()
export class PaymentService {
  /**
   * Records a delivery as `deferred` (not applied yet) and returns its id, or undefined when its
   * key is recorded already: the unique key settles concurrent deliveries, the others wait on the
   * first one's row and then find it committed.
   */
  async record(tx: Tx, dto: PaymentWebhookDto, now: Date): Promise<number | undefined> {
    try {
      const result = await tx.manager
        .getRepository(PaymentEvent)
        .insert({ idempotencyKey: dto.idempotency_key, orderId: dto.order_id, status: dto.status, result: 'deferred', orderStatus: null, receivedAt: now });
      return Number(result.identifiers[0].id);
    } catch (err) {
      if (isDuplicateKey(err)) return undefined;
      throw err;
    }
  }

  /**
   * The answer to a delivery whose key was recorded before: the same event answers `duplicate`
   * with the order status stored with it (`deferred` again while its order does not exist); another
   * event under the same key throws IdempotencyKeyReusedError.
   */
  async replay(tx: Tx, dto: PaymentWebhookDto): Promise<WebhookResponse> {
    const stored = await tx.manager.getRepository(PaymentEvent).findOneByOrFail({ idempotencyKey: dto.idempotency_key });
    if (Number(stored.orderId) !== dto.order_id || stored.status !== dto.status) throw new IdempotencyKeyReusedError();
    if (stored.result === 'deferred') return webhookResponse(dto, 'deferred', null);
    return webhookResponse(dto, 'duplicate', stored.orderStatus);
  }

  /** Marks a recorded event as settled: it moved its order (`applied`) or came too late (`ignored`). */
  async settle(tx: Tx, ids: number[], result: Exclude<PaymentEventResult, 'deferred'>, orderStatus: OrderStatus, now: Date): Promise<void> {
    if (ids.length === 0) return;
    await tx.manager.getRepository(PaymentEvent).update(ids, { result, orderStatus, settledAt: now });
  }

  /**
   * The events waiting for this order, first recorded first, locked (a locking read waits for an
   * event being inserted right now, so none is missed by an order being created).
   */
  async lockDeferred(tx: Tx, orderId: number): Promise<DeferredEvent[]> {
    const rows = await tx.manager
      .getRepository(PaymentEvent)
      .createQueryBuilder('e')
      .select(['e.id', 'e.status'])
      .where('e.orderId = :orderId AND e.result = :result', { orderId, result: 'deferred' })
      .orderBy('e.id')
      .setLock('pessimistic_write')
      .getMany();
    return rows.map((e) => ({ id: Number(e.id), status: e.status }));
  }
}

/** The webhook's answer body. */
export function webhookResponse(dto: PaymentWebhookDto, result: WebhookResult, orderStatus: OrderStatus | null): WebhookResponse {
  return { idempotency_key: dto.idempotency_key, order_id: dto.order_id, result, order_status: orderStatus };
}
