import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ProductNotFoundError } from '../common/errors';
import { Tx } from '../database/transaction.service';
import { lapsedHoldSql } from '../hold/hold-lapse';
import { lapsedOrderSql } from '../order/order-lapse';
import { ListProductsQuery } from './dto/list-products.query';
import { ProductListResponse, ProductResponse, ProductRow, toProductResponse } from './dto/product.response';
import { Product } from './product.entity';

/**
 * Products with their availability, read in one statement. It reads the holds and orders tables
 * (the hold and order modules') through their lapse rules, read-only: the product read is the hottest read
 * of a drop, and one statement for a product or for the whole list beats a product read plus a
 * lapsed sum per product. So what it shows is exact at the moment of the read, whether or not the
 * expiry job has run.
 */
const SELECT_PRODUCTS = `
  SELECT p.id, p.name, p.price, p.stock, p.reserved, p.max_per_buyer,
         (SELECT COALESCE(SUM(h.qty), 0) FROM holds h WHERE h.product_id = p.id AND ${lapsedHoldSql('h')})
       + (SELECT COALESCE(SUM(o.qty), 0) FROM orders o WHERE o.product_id = p.id AND ${lapsedOrderSql('o')}) AS lapsed
    FROM products p`;

/** The parameters of SELECT_PRODUCTS' two lapse rules. */
function lapseParams(now: Date): Date[] {
  return [now, now];
}

@Injectable()
export class ProductService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The product with its current availability; inside the caller's transaction when `tx` is
   * given (the admin's answers read what they wrote). Throws ProductNotFoundError. Takes no locks.
   */
  async findOne(id: number, tx?: Tx): Promise<ProductResponse> {
    const rows: ProductRow[] = await (tx?.manager ?? this.dataSource).query(`${SELECT_PRODUCTS} WHERE p.id = ?`, [...lapseParams(new Date()), id]);
    if (rows.length === 0) throw new ProductNotFoundError();
    return toProductResponse(rows[0]);
  }

  /**
   * One page of products with their availability, in one statement whatever the page size.
   * Keyset pagination on the primary key (`id > after_id ORDER BY id LIMIT limit + 1`; the extra
   * row says whether a next page exists): stable while products are added. No locks.
   */
  async page(query: ListProductsQuery): Promise<ProductListResponse> {
    const rows: ProductRow[] = await this.dataSource.query(`${SELECT_PRODUCTS} WHERE p.id > ? ORDER BY p.id LIMIT ?`, [
      ...lapseParams(new Date()),
      query.afterId,
      query.limit + 1,
    ]);
    const data = rows.slice(0, query.limit).map(toProductResponse);
    return { data, next_after_id: rows.length > query.limit ? data[data.length - 1].id : null };
  }

  /**
   * Every product with its availability, in one statement (the metrics' gauges; the admin's sales,
   * inside its read-only transaction when `tx` is given). No locks.
   */
  async findAll(tx?: Tx): Promise<ProductResponse[]> {
    const rows: ProductRow[] = await (tx?.manager ?? this.dataSource).query(`${SELECT_PRODUCTS} ORDER BY p.id`, lapseParams(new Date()));
    return rows.map(toProductResponse);
  }

  /**
   * Sets the product's per-buyer limit (null: none), inside the caller's transaction, which holds
   * the product's row lock. A cached read of the product is refreshed after the commit by the
   * caller's stock change or, without one, within AVAILABILITY_CACHE_TTL_MS.
   */
  async setMaxPerBuyer(tx: Tx, id: number, maxPerBuyer: number | null): Promise<void> {
    await tx.manager.getRepository(Product).update({ id }, { maxPerBuyer, updatedAt: new Date() });
  }

  /** The product's current price, inside the caller's transaction. Throws ProductNotFoundError. */
  async priceOf(tx: Tx, id: number): Promise<string> {
    const product = await tx.manager.getRepository(Product).findOne({ where: { id }, select: { id: true, price: true } });
    if (!product) throw new ProductNotFoundError();
    return product.price;
  }
}
