import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TransactionService } from '../database/transaction.service';
import { ProductService } from '../product/product.service';

/** A product's availability as one read saw it, with the moment its next hold or order lapses. */
export interface LiveValue {
  productId: number;
  stock: number;
  available: number;
  /** Date.now() when the read began. */
  readAt: number;
  /** The earliest `expires_at` (ms) of its active holds and pending orders not yet lapsed; null when none. */
  nextLapseAt: number | null;
}

export interface SalesRow {
  product_id: number;
  name: string;
  stock: number;
  available: number;
  held: number;
  sold: number;
  holds: number;
}

/**
 * Reads of the live views. They read the holds and orders tables (the hold and order modules'),
 * read-only, like the product read: the earliest expiry still ahead, and the admin's totals (units
 * sold from the orders; holds ever granted from the product row, which the reservation counts).
 * Each is one statement over the indexes (product_id, status, expires_at, qty) of the tables.
 */
const NEXT_LAPSE = `
  SELECT (SELECT MIN(h.expires_at) FROM holds h WHERE h.product_id = ? AND h.status = 'active' AND h.expires_at > ?) AS hold_at,
         (SELECT MIN(o.expires_at) FROM orders o WHERE o.product_id = ? AND o.status = 'pending' AND o.expires_at > ?) AS order_at`;

const SALES = `
  SELECT p.id AS product_id,
         (SELECT COALESCE(SUM(o.qty), 0) FROM orders o WHERE o.product_id = p.id AND o.status = 'paid') AS sold,
         p.holds_granted AS holds
    FROM products p`;

function time(value: Date | string | null): number | null {
  return value === null ? null : new Date(value).getTime();
}

@Injectable()
export class LiveReadService {
  constructor(
    private readonly products: ProductService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tx: TransactionService,
  ) {}

  /** The product's availability and its next lapse. Throws ProductNotFoundError. No locks. */
  async read(productId: number): Promise<LiveValue> {
    const readAt = Date.now();
    const product = await this.products.findOne(productId);
    // From readAt: a hold lapsing during the read is looked at once more right away, never missed.
    const from = new Date(readAt);
    const [row] = await this.dataSource.query<Array<{ hold_at: Date | null; order_at: Date | null }>>(NEXT_LAPSE, [productId, from, productId, from]);
    const lapses = [time(row.hold_at), time(row.order_at)].filter((t): t is number => t !== null);
    return {
      productId,
      stock: product.stock,
      available: product.available,
      readAt,
      nextLapseAt: lapses.length > 0 ? Math.min(...lapses) : null,
    };
  }

  /**
   * Every product with its units held (active holds and pending orders), sold (paid orders) and
   * holds ever granted. Both statements read one snapshot (a REPEATABLE READ transaction takes it
   * at its first read), so a payment committing between them cannot show a unit both in
   * `stock` and in `sold`, or in neither.
   */
  async sales(): Promise<SalesRow[]> {
    const [products, rows] = await this.tx.run(
      async (tx) =>
        [
          await this.products.findAll(tx),
          await tx.manager.query<Array<{ product_id: number | string; sold: number | string; holds: number | string }>>(SALES),
        ] as const,
      'REPEATABLE READ',
    );
    const totals = new Map(rows.map((r) => [Number(r.product_id), r]));
    return products.map((p) => ({
      product_id: p.id,
      name: p.name,
      stock: p.stock,
      available: p.available,
      held: p.stock - p.available,
      sold: Number(totals.get(p.id)?.sold ?? 0),
      holds: Number(totals.get(p.id)?.holds ?? 0),
    }));
  }
}
