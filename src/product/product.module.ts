import { Module } from '@nestjs/common';
import { ProductController } from './product.controller';
import { ProductService } from './product.service';
import { StockService } from './stock.service';

@Module({
  controllers: [ProductController],
  providers: [ProductService, StockService],
  exports: [ProductService, StockService],
})
export class ProductModule {}
