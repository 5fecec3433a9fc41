import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, LessThanOrEqual } from 'typeorm';
import { IdempotencyKey } from './idempotency-key.entity';
import { isDuplicateKey, isLockNotAvailable } from '../common/db-errors';
import { TransactionService, Tx } from '../database/transaction.service';
import { IdempotencyKeyInFlightError } from '../common/errors';

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A request that carries an Idempotency-Key: what it must be recorded under. */
export interface IdempotencyClaim {
  scope: string;
  key: string;
  hash: string;
}

export interface StoredAnswer {
  hash: string;
  status: number;
  body: unknown;
}

/** Raised inside an effect's transaction when another request recorded the same key first. */
export class IdempotencyKeyTakenError extends Error {
  constructor() {
    super('idempotency key recorded by a concurrent request');
  }
}

/**
 * Idempotency-Key records, shared by all instances through MySQL. A successful effect records its
 * key in its own transaction (`record`), so a crash can never leave a key without its effect or an
 * effect without its key; a refusal (4xx) is recorded after the fact (`recordAnswer`).
 */
@Injectable()
export class IdempotencyService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionService,
  ) {}

  /**
   * The stored answer for a key within the last 24 h, or undefined. A key whose first request is
   * still inside its transaction on any instance is locked: NOWAIT turns that into 409 in flight.
   * (Raw SQL: the repository API has no NOWAIT.)
   */
  async find(scope: string, key: string): Promise<StoredAnswer | undefined> {
    let rows: Array<{ request_hash: string; status_code: number; response_body: string }>;
    try {
      rows = await this.dataSource.query(
        `SELECT request_hash, status_code, response_body FROM idempotency_keys
          WHERE scope = ? AND idem_key = ? AND created_at > ? FOR UPDATE NOWAIT`,
        [scope, key, new Date(Date.now() - IDEMPOTENCY_WINDOW_MS)],
      );
    } catch (err) {
      if (isLockNotAvailable(err)) throw new IdempotencyKeyInFlightError();
      throw err;
    }
    if (rows.length === 0) return undefined;
    const row = rows[0];
    return { hash: row.request_hash, status: Number(row.status_code), body: JSON.parse(row.response_body) as unknown };
  }

  /**
   * Records the answer of a successful effect inside the effect's own transaction. A key recorded
   * meanwhile by another request (another instance, or one older than 24 h and not yet purged)
   * throws IdempotencyKeyTakenError, which rolls the effect back; the caller then replays.
   */
  async record(tx: Tx, claim: IdempotencyClaim, status: number, body: unknown): Promise<void> {
    const now = new Date();
    const keys = tx.manager.getRepository(IdempotencyKey);
    await keys.delete({ scope: claim.scope, idemKey: claim.key, createdAt: LessThanOrEqual(new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS)) });
    try {
      await keys.insert({
        scope: claim.scope,
        idemKey: claim.key,
        requestHash: claim.hash,
        statusCode: status,
        responseBody: JSON.stringify(body),
        createdAt: now,
      });
    } catch (err) {
      if (isDuplicateKey(err)) throw new IdempotencyKeyTakenError();
      throw err;
    }
  }

  /** Records a refusal (any 4xx), in its own transaction; the first answer recorded wins. */
  async recordAnswer(claim: IdempotencyClaim, status: number, body: unknown): Promise<void> {
    try {
      await this.transactions.run((tx) => this.record(tx, claim, status, body));
    } catch (err) {
      if (!(err instanceof IdempotencyKeyTakenError)) throw err;
    }
  }
}
