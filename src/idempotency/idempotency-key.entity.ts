import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The first answer given to a (route, Idempotency-Key) pair; see IdempotencyService. */
@Entity('idempotency_keys')
@Index('idx_idempotency_keys_created', ['createdAt'])
export class IdempotencyKey {
  @PrimaryColumn({ type: 'varchar', length: 32, charset: 'ascii', collation: 'ascii_bin' })
  scope: string;

  @PrimaryColumn({ name: 'idem_key', type: 'varchar', length: 255, charset: 'ascii', collation: 'ascii_bin' })
  idemKey: string;

  @Column({ name: 'request_hash', type: 'char', length: 64, charset: 'ascii' })
  requestHash: string;

  @Column({ name: 'status_code', type: 'smallint', unsigned: true })
  statusCode: number;

  @Column({ name: 'response_body', type: 'text' })
  responseBody: string;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;
}
