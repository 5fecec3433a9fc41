import { Controller, Get, Param } from '@nestjs/common';
import { ParseIdPipe } from '../common/validation';
import { ProductResponse } from './dto/product.response';
import { ProductService } from './product.service';

@Controller('api/products')
export class ProductController {
  constructor(private readonly products: ProductService) {}

  @Get()
  async list(): Promise<{ data: ProductResponse[] }> {
    return { data: await this.products.findAll() };
  }

  @Get(':id')
  findOne(@Param('id', ParseIdPipe) id: number): Promise<ProductResponse> {
    return this.products.findOne(id);
  }
}
