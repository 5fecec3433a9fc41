import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/config';
import { HoldNotFoundError, InsufficientStockError, ValidationFailedError } from '../common/errors';
import { runInTransaction } from '../database/transaction';
import { IdempotencyClaim, IdempotencyService } from '../common/idempotency/idempotency.service';
import { StockService } from '../product/stock.service';
import { CreateHoldDto } from './dto/create-hold.dto';
import { HoldResponse, toHoldResponse } from './dto/hold.response';
import { Hold } from './hold.entity';

@Injectable()
export class HoldService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stock: StockService,
    private readonly idempotency: IdempotencyService,
  ) {}

  /**
   * Reserves `qty` units for HOLD_TTL_SECONDS in one transaction: the product row is locked,
   * availability checked, the hold inserted and `reserved` raised together, or nothing at all.
   * With an Idempotency-Key claim, the key and this answer are recorded in the same transaction.
   * Throws ValidationFailedError (qty above MAX_HOLD_QTY), ProductNotFoundError, InsufficientStockError.
   */
  async create(dto: CreateHoldDto, claim?: IdempotencyClaim): Promise<HoldResponse> {
    if (dto.qty > this.config.maxHoldQty) {
      throw new ValidationFailedError([{ field: 'qty', problem: `must not be greater than ${this.config.maxHoldQty}` }]);
    }
    const hold = await runInTransaction(this.dataSource, async (runner) => {
      const reservation = await this.stock.reserve(runner, dto.product_id, [dto.qty]);
      if (!reservation.granted[0]) throw new InsufficientStockError(reservation.seen[0]);
      const row = runner.manager.create(Hold, {
        productId: dto.product_id,
        qty: dto.qty,
        status: 'active',
        createdAt: reservation.now,
        expiresAt: new Date(reservation.now.getTime() + this.config.holdTtlSeconds * 1000),
      });
      const result: { insertId: number } = await runner.query(
        'INSERT INTO holds (product_id, qty, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?)',
        [row.productId, row.qty, row.status, row.expiresAt, row.createdAt],
      );
      row.id = Number(result.insertId);
      const response = toHoldResponse(row, reservation.now);
      if (claim) await this.idempotency.record(runner, claim, 201, response);
      return response;
    });
    return hold;
  }

  /** The hold as it reads now (past `expires_at` reads as expired). Throws HoldNotFoundError. */
  async findOne(id: number): Promise<HoldResponse> {
    const hold = await this.dataSource.getRepository(Hold).findOneBy({ id });
    if (!hold) throw new HoldNotFoundError();
    return toHoldResponse(hold);
  }
}
