import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { HoldNotFoundError, InsufficientStockError, ProductNotFoundError, ValidationFailedError } from '../common/errors';
import { MetricsService } from '../observability/metrics.service';
import { KeyedBatcher } from '../common/keyed-batcher';
import { runInTransaction } from '../database/transaction';
import { IdempotencyClaim, IdempotencyService } from '../common/idempotency/idempotency.service';
import { StockService } from '../product/stock.service';
import { CreateHoldDto } from './dto/create-hold.dto';
import { HoldResponse, toHoldResponse } from './dto/hold.response';
import { Hold } from './hold.entity';
import { HoldIdAllocator } from './hold-ids';

/** Most holds one reservation transaction grants (one multi-row INSERT). */
export const MAX_HOLDS_PER_BATCH = 200;
/** Reservation transactions of one product an instance runs at once (the next batch gathers meanwhile). */
export const MAX_BATCHES_IN_FLIGHT = 2;

interface HoldRequest {
  qty: number;
  claim?: IdempotencyClaim;
}

type HoldOutcome = HoldResponse | InsufficientStockError;

@Injectable()
export class HoldService {
  /** Holds of one product that arrive while its row is locked wait and are granted together. */
  private readonly batcher = new KeyedBatcher<number, HoldRequest, HoldOutcome>(
    (productId, requests) => this.reserveBatch(productId, requests),
    MAX_HOLDS_PER_BATCH,
    MAX_BATCHES_IN_FLIGHT,
  );
  private readonly ids: HoldIdAllocator;
  private readonly logger = new Logger('hold');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stock: StockService,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: MetricsService,
  ) {
    this.ids = new HoldIdAllocator(dataSource);
  }

  /**
   * Reserves `qty` units for HOLD_TTL_SECONDS. Holds without an Idempotency-Key are granted in
   * batches (see reserveBatch); one with a key runs alone, so that a key recorded meanwhile by a
   * concurrent request rolls back only its own hold. Throws ValidationFailedError (qty above
   * MAX_HOLD_QTY), ProductNotFoundError, InsufficientStockError.
   */
  async create(dto: CreateHoldDto, claim?: IdempotencyClaim): Promise<HoldResponse> {
    if (dto.qty > this.config.maxHoldQty) {
      throw new ValidationFailedError([{ field: 'qty', problem: `must not be greater than ${this.config.maxHoldQty}` }]);
    }
    const request: HoldRequest = { qty: dto.qty, claim };
    let outcome: HoldOutcome;
    try {
      outcome = claim ? (await this.reserveBatch(dto.product_id, [request]))[0] : await this.batcher.submit(dto.product_id, request);
    } catch (err) {
      if (err instanceof ProductNotFoundError) this.rejected(dto, 'product_not_found');
      throw err;
    }
    if (outcome instanceof InsufficientStockError) {
      this.rejected(dto, 'insufficient_stock', outcome.available);
      throw outcome;
    }
    this.logger.log({ msg: 'hold.created', product_id: dto.product_id, hold_id: outcome.id, qty: dto.qty, expires_at: outcome.expires_at });
    this.metrics.holdCreated();
    return outcome;
  }

  private rejected(dto: CreateHoldDto, reason: string, available?: number): void {
    this.logger.log({ msg: 'hold.rejected', reason, product_id: dto.product_id, qty: dto.qty, available });
    this.metrics.holdRejected(reason);
  }

  /**
   * One transaction for a batch of holds of one product: the product row is locked
   * (pessimistic_write) once, the requests are granted in arrival order against the availability
   * read under that lock, `reserved` is raised by the granted units, and the granted holds are
   * inserted with one statement; with an Idempotency-Key claim, the key and its answer too. All or
   * nothing: a refusal is an answer (409), not a failure of the batch.
   */
  private reserveBatch(productId: number, requests: HoldRequest[]): Promise<HoldOutcome[]> {
    return runInTransaction(this.dataSource, async (runner) => {
      const reservation = await this.stock.reserve(
        runner,
        productId,
        requests.map((r) => r.qty),
      );
      const now = reservation.now;
      const expiresAt = new Date(now.getTime() + this.config.holdTtlSeconds * 1000);
      const granted = requests.filter((_, i) => reservation.granted[i]);
      const ids = await this.insertHolds(runner, productId, granted, now, expiresAt);
      let next = 0;
      const outcomes: HoldOutcome[] = requests.map((r, i) => {
        if (!reservation.granted[i]) return new InsufficientStockError(reservation.seen[i]);
        const hold = Object.assign(new Hold(), { id: ids[next++], productId, qty: r.qty, status: 'active', createdAt: now, expiresAt });
        return toHoldResponse(hold, now);
      });
      for (const [i, r] of requests.entries()) {
        const outcome = outcomes[i];
        if (r.claim && !(outcome instanceof InsufficientStockError)) await this.idempotency.record(runner, r.claim, 201, outcome);
      }
      return outcomes;
    });
  }

  private async insertHolds(runner: QueryRunner, productId: number, holds: HoldRequest[], now: Date, expiresAt: Date): Promise<number[]> {
    if (holds.length === 0) return [];
    const rows = holds.map((h) => [productId, h.qty, 'active', expiresAt, now]);
    const result: { insertId: number } = await runner.query('INSERT INTO holds (product_id, qty, status, expires_at, created_at) VALUES ?', [rows]);
    return this.ids.idsOf(runner, productId, Number(result.insertId), holds.length);
  }

  /** The hold as it reads now (past `expires_at` reads as expired). Throws HoldNotFoundError. */
  async findOne(id: number): Promise<HoldResponse> {
    const hold = await this.dataSource.getRepository(Hold).findOneBy({ id });
    if (!hold) throw new HoldNotFoundError();
    return toHoldResponse(hold);
  }
}
