import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ParseIdPipe } from '../common/validation';
import { CreateHoldDto } from './dto/create-hold.dto';
import { HoldResponse } from './dto/hold.response';
import { HoldService } from './hold.service';

@Controller('api/holds')
export class HoldController {
  constructor(private readonly holds: HoldService) {}

  @Post()
  @HttpCode(201)
  create(@Body() dto: CreateHoldDto): Promise<HoldResponse> {
    return this.holds.create(dto);
  }

  @Get(':id')
  findOne(@Param('id', ParseIdPipe) id: number): Promise<HoldResponse> {
    return this.holds.findOne(id);
  }
}
