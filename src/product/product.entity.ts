import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A product on sale. `stock` is what the shop still owns (paid units have left it); `reserved`
 * counts the units of holds in status `active` and of `pending` orders. What a new hold can take
 * is `stock - reserved + lapsed`, where `lapsed` is the units of active holds already past
 * `expires_at` (see StockService).
 */
@Entity('products')
export class Product {
  @PrimaryGeneratedColumn({ type: 'bigint', unsigned: true })
  id: number;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** DECIMAL(12,2), kept as the driver's exact string. */
  @Column({ type: 'decimal', precision: 12, scale: 2 })
  price: string;

  @Column({ type: 'bigint', unsigned: true })
  stock: number;

  @Column({ type: 'bigint', unsigned: true, default: 0 })
  reserved: number;

  /** Holds ever granted on the product (StockService.reserve counts them); never goes down. */
  @Column({ name: 'holds_granted', type: 'bigint', unsigned: true, default: 0 })
  holdsGranted: number;

  /** Most units one buyer may have in active holds, pending and paid orders; null: no limit. */
  @Column({ name: 'max_per_buyer', type: 'int', unsigned: true, nullable: true })
  maxPerBuyer: number | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
