import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type HoldStatus = 'active' | 'expired' | 'converted';

/**
 * Units of one product set aside for a buyer until `expires_at`. The stored status moves
 * active → converted (an order was made) or active → expired (by the expiry job); a hold past
 * `expires_at` reads as expired before the job has run.
 */
@Entity('holds')
@Index('idx_holds_product_status_expires', ['productId', 'status', 'expiresAt', 'qty'])
@Index('idx_holds_status_expires', ['status', 'expiresAt'])
@Index('idx_holds_product_buyer_status', ['productId', 'buyer', 'status', 'expiresAt', 'qty'])
export class Hold {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id: number;

  @Column({ name: 'product_id', type: 'bigint', unsigned: true })
  productId: number;

  @Column({ type: 'int', unsigned: true })
  qty: number;

  @Column({ type: 'enum', enum: ['active', 'expired', 'converted'], default: 'active' })
  status: HoldStatus;

  @Column({ name: 'expires_at', type: 'datetime', precision: 3 })
  expiresAt: Date;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  /**
   * The buyer (a buyer token's `sub`); null when BUYER_AUTH=off. Compared byte for byte: the
   * column's collation is the server's NO PAD binary one (migration ExactComparisons).
   */
  @Column({ type: 'varchar', length: 255, nullable: true, charset: 'utf8mb4' })
  buyer: string | null;
}
