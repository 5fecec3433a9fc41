import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { Idempotent, IdempotencyClaimParam } from '../common/idempotency/idempotency.interceptor';
import { IdempotencyClaim } from '../common/idempotency/idempotency.service';
import { ParseIdPipe } from '../common/validation';
import { CreateHoldDto } from './dto/create-hold.dto';
import { HoldResponse } from './dto/hold.response';
import { HoldService } from './hold.service';

@Controller('api/holds')
export class HoldController {
  constructor(private readonly holds: HoldService) {}

  @Post()
  @HttpCode(201)
  @Idempotent('holds')
  create(@Body() dto: CreateHoldDto, @IdempotencyClaimParam() claim?: IdempotencyClaim): Promise<HoldResponse> {
    return this.holds.create(dto, claim);
  }

  @Get(':id')
  findOne(@Param('id', ParseIdPipe) id: number): Promise<HoldResponse> {
    return this.holds.findOne(id);
  }
}
