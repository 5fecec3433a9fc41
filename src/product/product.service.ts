import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { ProductNotFoundError } from '../common/errors';
import { ProductResponse, ProductRow, toProductResponse } from './dto/product.response';

/**
 * One statement reads products with their lapsed units (active holds past expires_at), so the
 * availability it shows is exact at the moment of the read, whether or not the expiry job ran.
 */
const SELECT_PRODUCTS = `
  SELECT p.id, p.name, p.price, p.stock, p.reserved,
         (SELECT COALESCE(SUM(h.qty), 0) FROM holds h
           WHERE h.product_id = p.id AND h.status = 'active' AND h.expires_at <= ?) AS lapsed
    FROM products p`;

@Injectable()
export class ProductService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The product with its current availability; inside `runner`'s transaction when given.
   * Throws ProductNotFoundError. Takes no locks.
   */
  async findOne(id: number, runner?: QueryRunner): Promise<ProductResponse> {
    const rows: ProductRow[] = await (runner ?? this.dataSource).query(`${SELECT_PRODUCTS} WHERE p.id = ?`, [new Date(), id]);
    if (rows.length === 0) throw new ProductNotFoundError();
    return toProductResponse(rows[0]);
  }

  /** Every product with its availability, in one statement. No locks. */
  async findAll(): Promise<ProductResponse[]> {
    const rows: ProductRow[] = await this.dataSource.query(`${SELECT_PRODUCTS} ORDER BY p.id`, [new Date()]);
    return rows.map(toProductResponse);
  }
}
