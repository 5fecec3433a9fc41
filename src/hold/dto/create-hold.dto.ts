import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_ID } from '../../http/validation';

export class CreateHoldDto {
  @ApiProperty({ example: 1, minimum: 1, maximum: MAX_ID })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_ID}` })
  @Max(MAX_ID, { message: `must be an integer from 1 to ${MAX_ID}` })
  product_id: number;

  /** The upper bound is MAX_HOLD_QTY, checked by HoldService (it is configuration, not a constant). */
  @ApiProperty({ example: 2, minimum: 1, description: 'At most MAX_HOLD_QTY (default 10).' })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  qty: number;
}
