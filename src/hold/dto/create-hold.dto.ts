import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_HOLD_QTY_LIMIT } from '../../config/config';
import { ID_SCHEMA } from '../../http/openapi';
import { MAX_ID } from '../../http/validation';

export class CreateHoldDto {
  @ApiProperty({ ...ID_SCHEMA, example: 1 })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_ID}` })
  @Max(MAX_ID, { message: `must be an integer from 1 to ${MAX_ID}` })
  product_id: number;

  /** The upper bound is MAX_HOLD_QTY, checked by PlaceHoldService (it is configuration, not a constant). */
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: MAX_HOLD_QTY_LIMIT,
    example: 2,
    description: `At most MAX_HOLD_QTY (default 10, configurable up to ${MAX_HOLD_QTY_LIMIT}); above it is 400 validation_failed.`,
  })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  qty: number;
}
