import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ID_SCHEMA } from '../../http/openapi';
import { MAX_ID } from '../../http/validation';

export class CreateOrderDto {
  @ApiProperty({ ...ID_SCHEMA, example: 17 })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_ID}` })
  @Max(MAX_ID, { message: `must be an integer from 1 to ${MAX_ID}` })
  hold_id: number;
}
