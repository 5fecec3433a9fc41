import { Inject, Injectable, Logger } from '@nestjs/common';
import { InsufficientStockError, ProductNotFoundError, ValidationFailedError } from '../common/errors';
import { currentRequestId, runInRequestContext } from '../common/request-context';
import { APP_CONFIG, AppConfig } from '../config/config';
import { TransactionService } from '../database/transaction.service';
import { HoldResponse, toHoldResponse } from '../hold/dto/hold.response';
import { CreateHoldDto } from '../hold/dto/create-hold.dto';
import { HoldService } from '../hold/hold.service';
import { IdempotencyClaim, IdempotencyService } from '../idempotency/idempotency.service';
import { MetricsService } from '../observability/metrics.service';
import { StockService } from '../product/stock.service';
import { KeyedBatcher } from './keyed-batcher';

/** Most holds one reservation transaction grants (one multi-row INSERT). */
const MAX_HOLDS_PER_BATCH = 200;
/** Reservation transactions of one product an instance runs at once (the next batch gathers meanwhile). */
const MAX_BATCHES_IN_FLIGHT = 2;

interface HoldRequest {
  qty: number;
  claim?: IdempotencyClaim;
  requestId?: string;
}

type HoldOutcome = HoldResponse | InsufficientStockError;

/**
 * Placing a hold: product stock (StockService) → holds (HoldService) → the Idempotency-Key record,
 * in one transaction. Holds of one product that arrive while that product's reservation
 * transaction runs wait for it and then go together (group commit): one row lock, one UPDATE and
 * one multi-row INSERT serve the whole batch, and each request still gets its own answer.
 */
@Injectable()
export class PlaceHoldService {
  private readonly batcher = new KeyedBatcher<number, HoldRequest, HoldOutcome>(
    (productId, requests) => this.reserveBatch(productId, requests),
    MAX_HOLDS_PER_BATCH,
    MAX_BATCHES_IN_FLIGHT,
  );
  private readonly logger = new Logger('hold');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: TransactionService,
    private readonly stock: StockService,
    private readonly holds: HoldService,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Reserves `qty` units for HOLD_TTL_SECONDS. Holds without an Idempotency-Key are granted in
   * batches; one with a key runs alone, so that a key recorded meanwhile by a concurrent request
   * rolls back only its own hold. Throws ValidationFailedError (qty above MAX_HOLD_QTY),
   * ProductNotFoundError, InsufficientStockError.
   */
  async place(dto: CreateHoldDto, claim?: IdempotencyClaim): Promise<HoldResponse> {
    if (dto.qty > this.config.maxHoldQty) {
      throw new ValidationFailedError([{ field: 'qty', problem: `must not be greater than ${this.config.maxHoldQty}` }]);
    }
    const request: HoldRequest = { qty: dto.qty, claim, requestId: currentRequestId() };
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
   * One transaction for a batch of holds of one product: StockService locks the product row once
   * and grants the requests in arrival order against the availability read under that lock; the
   * granted holds are inserted with one statement; with an Idempotency-Key claim, the key and its
   * answer too. All or nothing: a refusal is an answer (409), not a failure of the batch. The
   * batch's own log lines (lock wait, retries) carry the request id of its first request.
   */
  private reserveBatch(productId: number, requests: HoldRequest[]): Promise<HoldOutcome[]> {
    const work = () =>
      this.transactions.run(async (tx) => {
        const qtys = requests.map((r) => r.qty);
        const reservation = await this.stock.reserve(tx, productId, qtys);
        const now = reservation.now;
        const expiresAt = new Date(now.getTime() + this.config.holdTtlSeconds * 1000);
        const granted = await this.holds.insertMany(
          tx,
          productId,
          qtys.filter((_, i) => reservation.granted[i]),
          now,
          expiresAt,
        );
        let next = 0;
        const outcomes = requests.map((_, i) =>
          reservation.granted[i] ? toHoldResponse(granted[next++], now) : new InsufficientStockError(reservation.seen[i]),
        );
        for (const [i, r] of requests.entries()) {
          const outcome = outcomes[i];
          if (r.claim && !(outcome instanceof InsufficientStockError)) await this.idempotency.record(tx, r.claim, 201, outcome);
        }
        return outcomes;
      });
    const requestId = requests[0]?.requestId;
    return requestId ? runInRequestContext(requestId, work) : work();
  }
}
