import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminDisabledError, ProductNotFoundError, ServiceUnavailableError, UnauthorizedError, ValidationFailedError } from '../common/errors';
import { ADMIN_SECURITY, ApiErrors, ApiIdParam, BODY_ERRORS } from '../http/openapi';
import { AdminOnly } from '../http/route-auth';
import { ParseIdPipe } from '../http/validation';
import { ProductCacheInterceptor } from './cache/product-cache.interceptor';
import { CreateProductDto } from './dto/create-product.dto';
import { ProductListResponse, ProductResponse, toProductList } from './dto/product.response';
import { RestockProductDto } from './dto/restock-product.dto';
import { ProductAdminService } from './product-admin.service';
import { ProductService } from './product.service';

@ApiTags('products')
@ApiErrors(new ServiceUnavailableError())
@Controller('api/products')
export class ProductController {
  constructor(
    private readonly products: ProductService,
    private readonly admin: ProductAdminService,
  ) {}

  @Get()
  @UseInterceptors(ProductCacheInterceptor)
  @ApiOkResponse({ type: ProductListResponse, description: 'May lag by up to AVAILABILITY_CACHE_TTL_MS.' })
  async list(): Promise<ProductListResponse> {
    return toProductList(await this.products.findAll());
  }

  @Get(':id')
  @UseInterceptors(ProductCacheInterceptor)
  @ApiIdParam()
  @ApiOkResponse({ type: ProductResponse, description: 'May lag by up to AVAILABILITY_CACHE_TTL_MS.' })
  @ApiErrors(new ValidationFailedError([]), new ProductNotFoundError())
  findOne(@Param('id', ParseIdPipe) id: number): Promise<ProductResponse> {
    return this.products.findOne(id);
  }

  @Post()
  @HttpCode(201)
  @AdminOnly()
  @ApiBearerAuth(ADMIN_SECURITY)
  @ApiCreatedResponse({ type: ProductResponse })
  @ApiErrors(...BODY_ERRORS, new UnauthorizedError(), new AdminDisabledError())
  create(@Body() dto: CreateProductDto): Promise<ProductResponse> {
    return this.admin.create(dto);
  }

  @Patch(':id')
  @AdminOnly()
  @ApiIdParam()
  @ApiBearerAuth(ADMIN_SECURITY)
  @ApiOkResponse({ type: ProductResponse, description: 'Adds `restock` units to stock; always fresh.' })
  @ApiErrors(...BODY_ERRORS, new UnauthorizedError(), new AdminDisabledError(), new ProductNotFoundError())
  restock(@Param('id', ParseIdPipe) id: number, @Body() dto: RestockProductDto): Promise<ProductResponse> {
    return this.admin.restock(id, dto);
  }
}
