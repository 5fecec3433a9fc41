import { Body, Controller, Get, HttpCode, Injectable, Param, Patch, PipeTransform, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  AdminDisabledError,
  ProductNotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  ValidationFailedError,
} from '../common/errors';
import { ADMIN_SECURITY, ApiErrors, ApiIdParam, BODY_ERRORS } from '../http/openapi';
import { AdminOnly } from '../http/route-auth';
import { RateLimited } from '../http/rate-limit';
import { MAX_ID, ParseIdPipe } from '../http/validation';
import { ProductCacheService } from './cache/product-cache.service';
import { CreateProductDto } from './dto/create-product.dto';
import { DEFAULT_PRODUCT_PAGE_SIZE, ListProductsQuery, MAX_PRODUCT_PAGE_SIZE, parseListProductsQuery } from './dto/list-products.query';
import { ProductListResponse, ProductResponse } from './dto/product.response';
import { RestockProductDto } from './dto/restock-product.dto';
import { ProductAdminService } from './product-admin.service';

@Injectable()
class ListProductsQueryPipe implements PipeTransform<Record<string, unknown>, ListProductsQuery> {
  transform(query: Record<string, unknown>): ListProductsQuery {
    return parseListProductsQuery(query ?? {});
  }
}

@ApiTags('products')
@ApiErrors(new ServiceUnavailableError())
@Controller('api/products')
export class ProductController {
  constructor(
    private readonly cache: ProductCacheService,
    private readonly admin: ProductAdminService,
  ) {}

  /**
   * The two reads are served from the short availability cache (ProductCacheService): called
   * directly rather than through an interceptor, which would put every read, the hottest request
   * of a drop, through an rxjs chain. Keys are the product id or the page, never the raw URL.
   */
  @Get()
  @RateLimited('reads')
  // Each parameter at most once, plain decimal digits; anything else is 400 (parseListProductsQuery).
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_PRODUCT_PAGE_SIZE, default: DEFAULT_PRODUCT_PAGE_SIZE },
  })
  @ApiQuery({
    name: 'after_id',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: MAX_ID, default: 0 },
    description: "keyset cursor: the previous page's next_after_id",
  })
  @ApiOkResponse({ type: ProductListResponse, description: 'May lag by up to AVAILABILITY_CACHE_TTL_MS.' })
  @ApiErrors(new ValidationFailedError([]), new RateLimitedError())
  list(@Query(ListProductsQueryPipe) query: ListProductsQuery): Promise<ProductListResponse> {
    return this.cache.page(query);
  }

  @Get(':id')
  @RateLimited('reads')
  @ApiIdParam()
  @ApiOkResponse({ type: ProductResponse, description: 'May lag by up to AVAILABILITY_CACHE_TTL_MS.' })
  @ApiErrors(new ValidationFailedError([]), new ProductNotFoundError(), new RateLimitedError())
  findOne(@Param('id', ParseIdPipe) id: number): Promise<ProductResponse> {
    return this.cache.product(id);
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
  @ApiOkResponse({ type: ProductResponse, description: 'Adds `restock` units to stock and/or sets `max_per_buyer`; always fresh.' })
  @ApiErrors(...BODY_ERRORS, new UnauthorizedError(), new AdminDisabledError(), new ProductNotFoundError())
  update(@Param('id', ParseIdPipe) id: number, @Body() dto: RestockProductDto): Promise<ProductResponse> {
    return this.admin.update(id, dto);
  }
}
