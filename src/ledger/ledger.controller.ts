import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AdminDisabledError, ProductNotFoundError, ServiceUnavailableError, UnauthorizedError, ValidationFailedError } from '../common/errors';
import { ADMIN_SECURITY, ApiErrors, ApiIdParam } from '../http/openapi';
import { AdminOnly } from '../http/route-auth';
import { MAX_ID, ParseIdPipe } from '../http/validation';
import { DEFAULT_MOVEMENT_PAGE_SIZE, MAX_MOVEMENT_PAGE_SIZE, parseListMovementsQuery } from './dto/list-movements.query';
import { MovementPage } from './dto/movement.response';
import { LedgerService } from './ledger.service';

/** A product's stock history, for operators (admin token). */
@ApiTags('products')
@ApiErrors(new ServiceUnavailableError())
@Controller('api/products')
export class LedgerController {
  constructor(private readonly ledger: LedgerService) {}

  @Get(':id/movements')
  @AdminOnly()
  @ApiIdParam()
  @ApiBearerAuth(ADMIN_SECURITY)
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_MOVEMENT_PAGE_SIZE, default: DEFAULT_MOVEMENT_PAGE_SIZE },
  })
  @ApiQuery({
    name: 'after_id',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: MAX_ID, default: 0 },
    description: "keyset cursor: the previous page's next_after_id",
  })
  @ApiOkResponse({ type: MovementPage, description: 'The product’s stock movements in id order; always fresh.' })
  @ApiErrors(new ValidationFailedError([]), new UnauthorizedError(), new AdminDisabledError(), new ProductNotFoundError())
  list(@Param('id', ParseIdPipe) id: number, @Query() query: Record<string, unknown>): Promise<MovementPage> {
    // The query is parsed here, once the id has passed its pipe, not by a pipe of its own: Nest
    // runs a handler's parameter pipes concurrently and answers the first refusal to settle, which
    // was the query's. The contract checks the path first, so a bad id is reported alone.
    return this.ledger.page(id, parseListMovementsQuery(query ?? {}));
  }
}
