import { Injectable } from '@nestjs/common';
import { ValidationFailedError } from '../common/errors';
import { TransactionService } from '../database/transaction.service';
import { ProductCacheService } from './cache/product-cache.service';
import { CreateProductDto } from './dto/create-product.dto';
import { ProductResponse } from './dto/product.response';
import { RestockProductDto } from './dto/restock-product.dto';
import { Product } from './product.entity';
import { ProductService } from './product.service';
import { StockService } from './stock.service';

/**
 * Setting up a sale: creating products and adding stock. Answers are read inside the writing
 * transaction, so an admin always sees the state the change produced, never a cached one.
 */
@Injectable()
export class ProductAdminService {
  constructor(
    private readonly transactions: TransactionService,
    private readonly products: ProductService,
    private readonly stock: StockService,
    private readonly cache: ProductCacheService,
  ) {}

  /** A new product with `stock` units, nothing reserved, its `max_per_buyer` (default none), and its `opening` movement. */
  async create(dto: CreateProductDto): Promise<ProductResponse> {
    return this.transactions.run(async (tx) => {
      const now = new Date();
      const repo = tx.manager.getRepository(Product);
      const { id } = await repo.save(
        repo.create({
          name: dto.name,
          price: dto.price,
          stock: dto.stock,
          reserved: 0,
          maxPerBuyer: dto.max_per_buyer ?? null,
          createdAt: now,
          updatedAt: now,
        }),
      );
      await this.stock.opened(tx, Number(id), dto.stock, now);
      tx.afterCommit(() => this.cache.changed(Number(id)));
      return this.products.findOne(Number(id), tx);
    });
  }

  /**
   * Adds `restock` units and/or sets `max_per_buyer` (null removes the limit), both under the
   * product row lock, so a hold batch decides against the old or the new limit, never half of
   * each. Throws ValidationFailedError (neither given), ProductNotFoundError.
   */
  async update(id: number, dto: RestockProductDto): Promise<ProductResponse> {
    if (dto.restock === undefined && dto.max_per_buyer === undefined) {
      throw new ValidationFailedError([{ field: 'body', problem: 'must have restock, max_per_buyer or both' }]);
    }
    return this.transactions.run(async (tx) => {
      if (dto.restock !== undefined) await this.stock.restock(tx, id, dto.restock);
      else await this.stock.lock(tx, id);
      if (dto.max_per_buyer !== undefined) {
        await this.products.setMaxPerBuyer(tx, id, dto.max_per_buyer);
        tx.afterCommit(() => this.cache.changed(id));
      }
      return this.products.findOne(id, tx);
    });
  }
}
