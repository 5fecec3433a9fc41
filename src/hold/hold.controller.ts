import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  HoldNotFoundError,
  IdempotencyKeyInFlightError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  ProductNotFoundError,
  ServiceUnavailableError,
  ValidationFailedError,
} from '../common/errors';
import { ApiErrors, BODY_ERRORS } from '../common/openapi';
import { Idempotent, IdempotencyClaimParam } from '../common/idempotency/idempotency.interceptor';
import { IdempotencyClaim } from '../common/idempotency/idempotency.service';
import { ParseIdPipe } from '../common/validation';
import { CreateHoldDto } from './dto/create-hold.dto';
import { HoldResponse } from './dto/hold.response';
import { HoldService } from './hold.service';

@ApiTags('holds')
@ApiErrors(new ServiceUnavailableError())
@Controller('api/holds')
export class HoldController {
  constructor(private readonly holds: HoldService) {}

  @Post()
  @HttpCode(201)
  @Idempotent('holds')
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1..255 printable ASCII characters; a retry with the same key and body replays the first answer.' })
  @ApiCreatedResponse({ type: HoldResponse })
  @ApiErrors(
    ...BODY_ERRORS,
    new ProductNotFoundError(),
    new InsufficientStockError(3),
    new IdempotencyKeyInFlightError(),
    new IdempotencyKeyReusedError(),
  )
  create(@Body() dto: CreateHoldDto, @IdempotencyClaimParam() claim?: IdempotencyClaim): Promise<HoldResponse> {
    return this.holds.create(dto, claim);
  }

  @Get(':id')
  @ApiOkResponse({ type: HoldResponse, description: 'A hold past expires_at reads as expired.' })
  @ApiErrors(new ValidationFailedError([]), new HoldNotFoundError())
  findOne(@Param('id', ParseIdPipe) id: number): Promise<HoldResponse> {
    return this.holds.findOne(id);
  }
}
