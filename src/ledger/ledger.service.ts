import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ProductNotFoundError } from '../common/errors';
import { Tx } from '../database/transaction.service';
import { ListMovementsQuery } from './dto/list-movements.query';
import { MovementPage, MovementRow, toMovementResponse } from './dto/movement.response';
import { appendMovements, Movement } from './ledger';

/**
 * The stock_movements table (the stock ledger): appended to only by StockService, in the
 * transaction that changes the figures, so a product's `stock` and `reserved` always equal the
 * sums of its movements (checked by `npm run audit`).
 */
@Injectable()
export class LedgerService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Appends the movements with one multi-row INSERT inside the caller's transaction. Takes no lock. */
  async append(tx: Tx, rows: Movement[], at: Date): Promise<void> {
    await appendMovements(tx.manager, rows, at);
  }

  /**
   * One page of a product's movements in id order after `afterId`, in one statement: the product
   * row joined to its movements, so an unknown product (no row at all) is told from a product with
   * no movements after the cursor (one row of nulls). Reads the primary key `(product_id, id)`.
   * Throws ProductNotFoundError.
   */
  async page(productId: number, query: ListMovementsQuery): Promise<MovementPage> {
    const rows: MovementRow[] = await this.dataSource.query(
      `SELECT p.id AS product, m.id, m.product_id, m.kind, m.stock_delta, m.reserved_delta, m.hold_id, m.order_id, m.payment_event_id, m.created_at
         FROM products p LEFT JOIN stock_movements m ON m.product_id = p.id AND m.id > ?
        WHERE p.id = ?
        ORDER BY m.id LIMIT ?`,
      [query.afterId, productId, query.limit + 1],
    );
    if (rows.length === 0) throw new ProductNotFoundError();
    const found = rows.filter((r) => r.id !== null);
    const page = found.slice(0, query.limit).map(toMovementResponse);
    return { data: page, next_after_id: found.length > query.limit ? page[page.length - 1].id : null };
  }
}
