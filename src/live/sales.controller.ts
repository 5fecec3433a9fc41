import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminDisabledError, ServiceUnavailableError, UnauthorizedError } from '../common/errors';
import { ADMIN_SECURITY, ApiErrors } from '../http/openapi';
import { AdminOnly } from '../http/route-auth';
import { SalesResponse } from './dto/sales.response';
import { LiveReadService } from './live-read.service';

@ApiTags('admin')
@Controller('api/admin')
export class SalesController {
  constructor(private readonly reader: LiveReadService) {}

  /** The operator's view: every product's stock, available, held, sold and holds so far. Fresh, no cache, no locks. */
  @Get('sales')
  @AdminOnly()
  @ApiBearerAuth(ADMIN_SECURITY)
  @ApiOkResponse({ type: SalesResponse, description: 'Read from the database, never cached.' })
  @ApiErrors(new UnauthorizedError(), new AdminDisabledError(), new ServiceUnavailableError())
  async sales(): Promise<SalesResponse> {
    const at = new Date().toISOString();
    return { data: await this.reader.sales(), at };
  }
}
