import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseInterceptors } from '@nestjs/common';
import { AdminOnly } from '../common/route-auth';
import { ParseIdPipe } from '../common/validation';
import { ProductCacheInterceptor } from './cache/product-cache.interceptor';
import { CreateProductDto } from './dto/create-product.dto';
import { ProductListResponse, ProductResponse, toProductList } from './dto/product.response';
import { RestockProductDto } from './dto/restock-product.dto';
import { ProductAdminService } from './product-admin.service';
import { ProductService } from './product.service';

@Controller('api/products')
export class ProductController {
  constructor(
    private readonly products: ProductService,
    private readonly admin: ProductAdminService,
  ) {}

  @Get()
  @UseInterceptors(ProductCacheInterceptor)
  async list(): Promise<ProductListResponse> {
    return toProductList(await this.products.findAll());
  }

  @Get(':id')
  @UseInterceptors(ProductCacheInterceptor)
  findOne(@Param('id', ParseIdPipe) id: number): Promise<ProductResponse> {
    return this.products.findOne(id);
  }

  @Post()
  @HttpCode(201)
  @AdminOnly()
  create(@Body() dto: CreateProductDto): Promise<ProductResponse> {
    return this.admin.create(dto);
  }

  @Patch(':id')
  @AdminOnly()
  restock(@Param('id', ParseIdPipe) id: number, @Body() dto: RestockProductDto): Promise<ProductResponse> {
    return this.admin.restock(id, dto);
  }
}
