import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { HoldNotFoundError, ServiceUnavailableError, ValidationFailedError } from '../common/errors';
import { ApiErrors, ApiIdParam } from '../http/openapi';
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
  @ApiIdParam()
  @ApiOkResponse({ type: HoldResponse, description: 'A hold past expires_at reads as expired.' })
  @ApiErrors(new ValidationFailedError([]), new HoldNotFoundError())
  async findOne(@Param('id', ParseIdPipe) id: number): Promise<HoldResponse> {
    return toHoldResponse(await this.holds.findOne(id));
  }
}
