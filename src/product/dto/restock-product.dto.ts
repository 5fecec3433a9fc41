import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';
import { ApiMinProperties } from '../../http/openapi';
import { MAX_STOCK_UNITS, MaxPerBuyer } from './create-product.dto';

/** PATCH /api/products/:id: `restock`, `max_per_buyer`, or both (ProductAdminService.update refuses neither). */
@ApiMinProperties(1)
export class RestockProductDto {
  @ApiPropertyOptional({ type: 'integer', example: 50, minimum: 1, maximum: MAX_STOCK_UNITS, description: 'Units to add to stock.' })
  @ValidateIf((_o, v) => v !== undefined)
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_STOCK_UNITS}` })
  @Max(MAX_STOCK_UNITS, { message: `must be an integer from 1 to ${MAX_STOCK_UNITS}` })
  restock?: number;

  @MaxPerBuyer()
  max_per_buyer?: number | null;
}
