import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { BuyerUnauthorizedError, HoldNotFoundError, RateLimitedError, ServiceUnavailableError, ValidationFailedError } from '../common/errors';
import { BuyerParam } from '../http/buyer-token';
import { ApiErrors, ApiIdParam, BUYER_SECURITY } from '../http/openapi';
import { RateLimited } from '../http/rate-limit';
import { BuyerRoute } from '../http/route-auth';
import { ParseIdPipe } from '../http/validation';
import { HoldResponse, toHoldResponse } from './dto/hold.response';
import { HoldService } from './hold.service';

/** Reading a hold. Holds are placed through POST /api/holds (src/checkout). */
@ApiTags('holds')
@ApiErrors(new ServiceUnavailableError())
@Controller('api/holds')
export class HoldController {
  constructor(private readonly holds: HoldService) {}

  @Get(':id')
  @BuyerRoute()
  @RateLimited('reads')
  @ApiIdParam()
  @ApiBearerAuth(BUYER_SECURITY)
  @ApiOkResponse({ type: HoldResponse, description: "A hold past expires_at reads as expired. Another buyer's hold is 404." })
  @ApiErrors(new ValidationFailedError([]), new BuyerUnauthorizedError(), new HoldNotFoundError(), new RateLimitedError())
  async findOne(@Param('id', ParseIdPipe) id: number, @BuyerParam() buyer: string | null): Promise<HoldResponse> {
    return toHoldResponse(await this.holds.findOne(id, buyer));
  }
}
