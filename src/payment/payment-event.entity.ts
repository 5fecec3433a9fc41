import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ORDER_STATUSES, type OrderStatus } from '../order/order-status';
import { PaymentOutcome } from './payment-outcome';

/**
 * What an event did: moved the order, came after its final state, waits for the order, or was a
 * payment after the order's payment deadline (`late`: a refund is due).
 */
export type PaymentEventResult = 'applied' | 'ignored' | 'deferred' | 'late';

/** A webhook delivery, recorded once per idempotency key in the same transaction as its effect. */
@Entity('payment_events')
@Index('idx_payment_events_order', ['orderId', 'result', 'id'])
export class PaymentEvent {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id: number;

  @Index('uq_payment_events_key', { unique: true })
  /** Compared byte for byte: the column's collation is the server's NO PAD binary one (migration ExactComparisons). */
  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, charset: 'utf8mb4' })
  idempotencyKey: string;

  @Column({ name: 'order_id', type: 'bigint', unsigned: true })
  orderId: number;

  @Column({ type: 'enum', enum: ['success', 'failure'] })
  status: PaymentOutcome;

  @Column({ type: 'enum', enum: ['applied', 'ignored', 'deferred', 'late'] })
  result: PaymentEventResult;

  @Column({ name: 'order_status', type: 'enum', enum: [...ORDER_STATUSES], nullable: true })
  orderStatus: OrderStatus | null;

  @Column({ name: 'received_at', type: 'datetime', precision: 3 })
  receivedAt: Date;

  @Column({ name: 'settled_at', type: 'datetime', precision: 3, nullable: true })
  settledAt: Date | null;
}
