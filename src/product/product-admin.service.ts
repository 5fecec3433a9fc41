import { Injectable } from '@nestjs/common';
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

  /** A new product with `stock` units and nothing reserved, and its `opening` movement. */
  async create(dto: CreateProductDto): Promise<ProductResponse> {
    return this.transactions.run(async (tx) => {
      const now = new Date();
      const repo = tx.manager.getRepository(Product);
      const { id } = await repo.save(repo.create({ name: dto.name, price: dto.price, stock: dto.stock, reserved: 0, createdAt: now, updatedAt: now }));
      await this.stock.opened(tx, Number(id), dto.stock, now);
      tx.afterCommit(() => this.cache.changed(Number(id)));
      return this.products.findOne(Number(id), tx);
    });
  }

  /** Adds `restock` units under the product row lock. Throws ProductNotFoundError. */
  async restock(id: number, dto: RestockProductDto): Promise<ProductResponse> {
    return this.transactions.run(async (tx) => {
      await this.stock.restock(tx, id, dto.restock);
      return this.products.findOne(id, tx);
    });
  }
}
