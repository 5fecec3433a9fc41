import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_STOCK_UNITS } from './create-product.dto';

export class RestockProductDto {
  @ApiProperty({ type: 'integer', example: 50, minimum: 1, maximum: MAX_STOCK_UNITS, description: 'Units to add to stock.' })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_STOCK_UNITS}` })
  @Max(MAX_STOCK_UNITS, { message: `must be an integer from 1 to ${MAX_STOCK_UNITS}` })
  restock: number;
}
