import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { afterCommit, runInTransaction } from '../database/transaction';
import { ProductCacheService } from './cache/product-cache.service';
import { CreateProductDto } from './dto/create-product.dto';
import { ProductResponse } from './dto/product.response';
import { RestockProductDto } from './dto/restock-product.dto';
import { ProductService } from './product.service';
import { StockService } from './stock.service';

/**
 * Setting up a sale: creating products and adding stock. Answers are read inside the writing
 * transaction, so an admin always sees the state the change produced, never a cached one.
 */
@Injectable()
export class ProductAdminService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly products: ProductService,
    private readonly stock: StockService,
    private readonly cache: ProductCacheService,
  ) {}

  async create(dto: CreateProductDto): Promise<ProductResponse> {
    return runInTransaction(this.dataSource, async (runner) => {
      const now = new Date();
      const result: { insertId: number } = await runner.query(
        'INSERT INTO products (name, price, stock, reserved, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)',
        [dto.name, dto.price, dto.stock, now, now],
      );
      const id = Number(result.insertId);
      afterCommit(runner, () => this.cache.changed(id));
      return this.products.findOne(id, runner);
    });
  }

  /** Adds `restock` units under the product row lock. Throws ProductNotFoundError. */
  async restock(id: number, dto: RestockProductDto): Promise<ProductResponse> {
    return runInTransaction(this.dataSource, async (runner) => {
      await this.stock.restock(runner, id, dto.restock);
      return this.products.findOne(id, runner);
    });
  }
}
