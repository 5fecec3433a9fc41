import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

import { ORDER_STATUSES, OrderStatus } from './order-status';

/**
 * An order made from exactly one hold (unique `hold_id`); its units stay reserved while pending.
 * `hold_id` and `product_id` name rows of other modules' tables without foreign keys: the order
 * use case checks the hold under its row lock, and products are never deleted.
 */
@Entity('orders')
@Index('idx_orders_status_id', ['status', 'id'])
@Index('idx_orders_product_id', ['productId', 'id'])
@Index('idx_orders_product_status_id', ['productId', 'status', 'id'])
@Index('idx_orders_product_status_expires', ['productId', 'status', 'expiresAt', 'qty'])
@Index('idx_orders_status_expires', ['status', 'expiresAt'])
@Index('idx_orders_refund_due', ['refundDue', 'id'])
@Index('idx_orders_product_buyer_status', ['productId', 'buyer', 'status', 'expiresAt', 'qty'])
@Index('idx_orders_buyer_id', ['buyer', 'id'])
export class Order {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id: number;

  @Index('uq_orders_hold_id', { unique: true })
  @Column({ name: 'hold_id', type: 'bigint', unsigned: true })
  holdId: number;

  @Column({ name: 'product_id', type: 'bigint', unsigned: true })
  productId: number;

  @Column({ type: 'int', unsigned: true })
  qty: number;

  @Column({ name: 'unit_price', type: 'decimal', precision: 12, scale: 2 })
  unitPrice: string;

  @Column({ type: 'decimal', precision: 16, scale: 2 })
  total: string;

  @Column({ type: 'enum', enum: [...ORDER_STATUSES], default: 'pending' })
  status: OrderStatus;

  /** The payment deadline: creation + ORDER_PAYMENT_TTL_SECONDS (kept once the order is final). */
  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt: Date;

  /** A payment arrived after the deadline: the money was taken and the units are gone. */
  @Column({ name: 'refund_due', type: 'tinyint', default: 0, transformer: { to: (v: boolean) => (v ? 1 : 0), from: (v: number) => Boolean(v) } })
  refundDue: boolean;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;

  /**
   * The buyer of the hold it was made from; null when BUYER_AUTH=off. Compared byte for byte: the
   * column's collation is the server's NO PAD binary one (migration ExactComparisons).
   */
  @Column({ type: 'varchar', length: 255, nullable: true, charset: 'utf8mb4' })
  buyer: string | null;
}
