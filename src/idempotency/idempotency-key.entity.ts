import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** The claim of a (scope, Idempotency-Key) pair and then its first answer; see IdempotencyService. */
@Entity('idempotency_keys')
@Index('idx_idempotency_keys_created', ['createdAt'])
export class IdempotencyKey {
  /** The route's scope, with the buyer's digest when the request has a buyer (buyerKeyScope). */
  @PrimaryColumn({ type: 'varchar', length: 64, charset: 'ascii', collation: 'ascii_bin' })
  scope: string;

  /** Compared byte for byte, trailing spaces included: the column's collation is the server's NO PAD binary one (migration IdempotencyKeysExact). */
  @PrimaryColumn({ name: 'idem_key', type: 'varchar', length: 255, charset: 'utf8mb4' })
  idemKey: string;

  @Column({ name: 'request_hash', type: 'char', length: 64, charset: 'ascii' })
  requestHash: string;

  /** The first answer's status; NULL while the claiming request is in flight. */
  @Column({ name: 'status_code', type: 'smallint', unsigned: true, nullable: true })
  statusCode: number | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  /** Who claimed the key (a random token per request); only that request may fill in the answer. */
  @Column({ name: 'claim_token', type: 'char', length: 32, charset: 'ascii', collation: 'ascii_bin', nullable: true })
  claimToken: string | null;

  /** The claim's lease: an unanswered claim past it belongs to nobody (its request died). */
  @Column({ name: 'claimed_until', type: 'datetime', precision: 3, nullable: true })
  claimedUntil: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;
}
