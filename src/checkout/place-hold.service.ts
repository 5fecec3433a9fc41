import { Inject, Injectable, Logger } from '@nestjs/common';
import { BuyerLimitReachedError, InsufficientStockError, ProductNotFoundError, ServiceUnavailableError, ValidationFailedError } from '../common/errors';
import { currentRequestId, runInRequestContext } from '../common/request-context';
import { APP_CONFIG, AppConfig } from '../config/config';
import { TransactionService } from '../database/transaction.service';
import { HoldResponse, toHoldResponse } from '../hold/dto/hold.response';
import { CreateHoldDto } from '../hold/dto/create-hold.dto';
import { HoldService } from '../hold/hold.service';
import { IdempotencyClaim, IdempotencyKeyTakenError, IdempotencyService } from '../idempotency/idempotency.service';
import { MetricsService } from '../observability/metrics.service';
import { Reservation, StockService } from '../product/stock.service';
import { BatcherCancelledError, BatcherQueueFullError, BatcherTimeoutError, KeyedBatcher } from './keyed-batcher';

/** Most holds one reservation transaction grants (one multi-row INSERT). */
const MAX_HOLDS_PER_BATCH = 200;
/** Reservation transactions of one product an instance runs at once (the next batch gathers meanwhile). */
const MAX_BATCHES_IN_FLIGHT = 2;
/**
 * A batch's answers are written this many at a time, reading I/O in between: writing 200 answers
 * takes tens of milliseconds under load, and a client that leaves meanwhile must be seen before its
 * own answer is decided, not after (see `place`).
 */
const ANSWERS_PER_TURN = 16;

interface HoldRequest {
  qty: number;
  /** The buyer (BUYER_AUTH=jwt), or null. */
  buyer: string | null;
  claim?: IdempotencyClaim;
  requestId?: string;
  gone?: () => boolean;
}

type HoldOutcome = HoldResponse | InsufficientStockError | BuyerLimitReachedError | IdempotencyKeyTakenError | BatcherCancelledError;

/** The answer of a request its batch did not grant: over its buyer's limit, or not enough stock. */
function refusal(reservation: Reservation, index: number): BuyerLimitReachedError | InsufficientStockError {
  const limited = reservation.buyerRefusals.get(index);
  return limited ? new BuyerLimitReachedError(limited.limit, limited.taken) : new InsufficientStockError(reservation.seen[index]);
}

/**
 * Placing a hold: product stock (StockService) → holds (HoldService) → the Idempotency-Key
 * answers, in one transaction. Holds of one product that arrive while that product's reservation
 * transaction runs wait for it and then go together (group commit): one row lock, one UPDATE, one
 * multi-row INSERT and one UPDATE of their keys serve the whole batch, and each request still gets
 * its own answer. Holds with and without an Idempotency-Key share the batches.
 *
 * Admission per product and instance is bounded (HOLD_QUEUE_MAX waiting, HOLD_QUEUE_TIMEOUT_MS of
 * waiting, clients that left are dropped): see KeyedBatcher. A refused request is 503 with
 * Retry-After and was never granted.
 */
@Injectable()
export class PlaceHoldService {
  private readonly batcher: KeyedBatcher<number, HoldRequest, HoldOutcome>;
  private readonly logger = new Logger('hold');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly transactions: TransactionService,
    private readonly stock: StockService,
    private readonly holds: HoldService,
    private readonly idempotency: IdempotencyService,
    private readonly metrics: MetricsService,
  ) {
    this.batcher = new KeyedBatcher((productId, requests) => this.reserveBatch(productId, requests), {
      maxBatch: MAX_HOLDS_PER_BATCH,
      maxInFlight: MAX_BATCHES_IN_FLIGHT,
      maxQueued: config.holdQueueMax,
      maxWaitMs: config.holdQueueTimeoutMs,
      resolveChunk: ANSWERS_PER_TURN,
    });
  }

  /**
   * Reserves `qty` units for HOLD_TTL_SECONDS. `gone` tells whether the client has left; such a
   * request is not granted if its batch had not started. Throws ValidationFailedError (qty above
   * MAX_HOLD_QTY), ProductNotFoundError, InsufficientStockError, BuyerLimitReachedError (the
   * product's max_per_buyer, for a hold with a `buyer`), ServiceUnavailableError (not admitted),
   * IdempotencyKeyTakenError (the claim was taken over meanwhile).
   */
  async place(dto: CreateHoldDto, claim?: IdempotencyClaim, gone?: () => boolean, buyer: string | null = null): Promise<HoldResponse> {
    if (dto.qty > this.config.maxHoldQty) {
      throw new ValidationFailedError([{ field: 'qty', problem: `must not be greater than ${this.config.maxHoldQty}` }]);
    }
    const request: HoldRequest = { qty: dto.qty, buyer, claim, requestId: currentRequestId(), gone };
    let outcome: HoldOutcome;
    try {
      outcome = await this.batcher.submit(dto.product_id, request, gone);
    } catch (err) {
      if (err instanceof ProductNotFoundError) this.rejected(dto, 'product_not_found');
      throw this.admissionError(dto, err);
    }
    if (outcome instanceof IdempotencyKeyTakenError) throw outcome;
    if (!claim && !(outcome instanceof Error) && gone?.() && (await this.endHolds(dto.product_id, [outcome.id], 'hold.abandoned'))) {
      // Its client left while its batch ran: nobody will ever know this hold, so it ended at once.
      throw this.admissionError(dto, new BatcherCancelledError());
    }
    if (outcome instanceof BatcherCancelledError) throw this.admissionError(dto, outcome);
    if (outcome instanceof InsufficientStockError) {
      this.rejected(dto, 'insufficient_stock', outcome.available);
      throw outcome;
    }
    if (outcome instanceof BuyerLimitReachedError) {
      this.rejected(dto, 'buyer_limit_reached');
      throw outcome;
    }
    this.logger.log({ msg: 'hold.created', product_id: dto.product_id, hold_id: outcome.id, qty: dto.qty, expires_at: outcome.expires_at });
    this.metrics.holdCreated();
    return outcome;
  }

  /** Holds of a product waiting on this instance for their batch to start. */
  queued(productId: number): number {
    return this.batcher.queued(productId);
  }

  private rejected(dto: CreateHoldDto, reason: string, available?: number): void {
    this.logger.log({ msg: 'hold.rejected', reason, product_id: dto.product_id, qty: dto.qty, available });
    this.metrics.holdRejected(reason);
  }

  /** A request the batcher did not admit or did not run: 503, counted by reason. */
  private admissionError(dto: CreateHoldDto, err: unknown): unknown {
    const reason =
      err instanceof BatcherQueueFullError
        ? 'queue_full'
        : err instanceof BatcherTimeoutError
          ? 'queue_timeout'
          : err instanceof BatcherCancelledError
            ? 'client_gone'
            : undefined;
    if (!reason) return err;
    this.rejected(dto, reason);
    return new ServiceUnavailableError(
      reason === 'client_gone' ? 'The client left before the hold was placed.' : 'Too many holds are waiting for this product; try again.',
    );
  }

  /**
   * One transaction for a batch of holds of one product: StockService locks the product row once
   * and grants the requests in arrival order against the availability read under that lock; the
   * granted holds are inserted with one statement, and the answers of those with an
   * Idempotency-Key claim are filled in with one more. All or nothing: a refusal is an answer
   * (409), not a failure of the batch. A claim taken over meanwhile (its lease lapsed) rolls the
   * batch back; it runs again without that request, which then replays the key's answer. The
   * batch's own log lines (lock wait, retries) carry the request id of its first request.
   */
  private async reserveBatch(productId: number, requests: HoldRequest[]): Promise<HoldOutcome[]> {
    const lost = new Set<IdempotencyClaim>();
    for (;;) {
      const live = requests.filter((r) => !r.claim || !lost.has(r.claim));
      if (live.length === 0) return requests.map(() => new IdempotencyKeyTakenError());
      try {
        const outcomes = await this.reserveInOneTransaction(productId, live);
        await this.endAbandoned(productId, live, outcomes);
        const byRequest = new Map(live.map((r, i) => [r, outcomes[i]]));
        return requests.map((r) => byRequest.get(r) ?? new IdempotencyKeyTakenError());
      } catch (err) {
        if (!(err instanceof IdempotencyKeyTakenError)) throw err;
        const claims = live.flatMap((r) => (r.claim ? [r.claim] : []));
        const still = await this.idempotency.stillClaimed(claims);
        if (still.size === claims.length) throw err; // none lost: not a take-over, do not loop
        for (const c of claims) if (!still.has(c)) lost.add(c);
      }
    }
  }

  /**
   * Holds granted to clients that left while their batch ran are ended at once, before anyone
   * could hear of them, and their units return to the sale (instead of staying locked for
   * HOLD_TTL_SECONDS); their requests answer 503 to nobody (counted as rejected: `client_gone`).
   * A hold with an Idempotency-Key is kept: its key's answer is stored, and the client's retry
   * gets it. This ends those gone by the commit, in one transaction; `place` checks each hold
   * again right before its answer is decided (the answers are handed out ANSWERS_PER_TURN at a
   * time) and ends the few that left in between.
   */
  private async endAbandoned(productId: number, requests: HoldRequest[], outcomes: HoldOutcome[]): Promise<void> {
    // Let the event loop take in the I/O already waiting (a client's closed connection among it)
    // before looking: the commit's answer may have been read ahead of it.
    await new Promise((resolve) => setImmediate(resolve));
    const abandoned = requests.flatMap((r, i) => {
      const outcome = outcomes[i];
      return !r.claim && !(outcome instanceof Error) && r.gone?.() ? [i] : [];
    });
    if (abandoned.length === 0) return;
    if (
      await this.endHolds(
        productId,
        abandoned.map((i) => (outcomes[i] as HoldResponse).id),
        'hold.abandoned',
      )
    ) {
      for (const i of abandoned) outcomes[i] = new BatcherCancelledError();
    }
  }

  /** Ends these holds in one transaction and returns their units; false if that failed. */
  private async endHolds(productId: number, ids: number[], msg: string): Promise<boolean> {
    try {
      const ended = await this.transactions.run(async (tx) => {
        await this.stock.lock(tx, productId);
        const done = await this.holds.endAbandoned(tx, ids, new Date());
        await this.stock.release(
          tx,
          productId,
          done.ended.map((h) => ({ kind: 'hold_abandoned', qty: h.qty, holdId: h.id })),
        );
        return done;
      });
      this.logger.log({ msg, product_id: productId, holds: ended.holds, units: ended.units });
      return true;
    } catch (err) {
      // They stay granted and lapse with their TTL.
      this.logger.warn({ msg: 'hold.abandon_failed', product_id: productId, err: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  private reserveInOneTransaction(productId: number, requests: HoldRequest[]): Promise<HoldOutcome[]> {
    const work = () =>
      this.transactions.run(async (tx) => {
        const qtys = requests.map((r) => r.qty);
        const buyers = this.config.buyerAuth === 'jwt' ? requests.map((r) => r.buyer) : undefined;
        const reservation = await this.stock.reserve(tx, productId, qtys, buyers);
        const now = reservation.now;
        const expiresAt = new Date(now.getTime() + this.config.holdTtlSeconds * 1000);
        const granted = await this.holds.insertMany(
          tx,
          productId,
          qtys.filter((_, i) => reservation.granted[i]),
          now,
          expiresAt,
          buyers?.filter((_, i) => reservation.granted[i]),
        );
        await this.stock.held(tx, productId, granted, now);
        let next = 0;
        const outcomes = requests.map((_, i) => (reservation.granted[i] ? toHoldResponse(granted[next++], now) : refusal(reservation, i)));
        await this.idempotency.fill(
          tx,
          requests.flatMap((r, i) => {
            const outcome = outcomes[i];
            return r.claim && !(outcome instanceof Error) ? [{ claim: r.claim, status: 201, body: outcome }] : [];
          }),
        );
        return outcomes;
      });
    const requestId = requests[0]?.requestId;
    return requestId ? runInRequestContext(requestId, work) : work();
  }
}
