import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { MONEY_PATTERN } from '../../common/money';
import { MONEY_SCHEMA } from '../../http/openapi';

export const MAX_STOCK_UNITS = 1_000_000_000;

export class CreateProductDto {
  @ApiProperty({ example: 'Limited sneaker', minLength: 1, maxLength: 200, pattern: '\\S', description: 'Not only whitespace.' })
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must be 1 to 200 characters' })
  @MaxLength(200, { message: 'must be 1 to 200 characters' })
  @Matches(/\S/, { message: 'must not be blank' })
  name: string;

  /** A decimal string with two places; a JSON number is refused (money is never a float). */
  @ApiProperty({ ...MONEY_SCHEMA, example: '99.00', description: 'A JSON number is refused; leading zeros are dropped.' })
  @IsString({ message: 'must be a decimal string with two places like "99.00"' })
  @Matches(MONEY_PATTERN, { message: 'must be a decimal string with two places like "99.00"' })
  price: string;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: MAX_STOCK_UNITS, example: 100 })
  @IsInt({ message: 'must be an integer' })
  @Min(0, { message: `must be an integer from 0 to ${MAX_STOCK_UNITS}` })
  @Max(MAX_STOCK_UNITS, { message: `must be an integer from 0 to ${MAX_STOCK_UNITS}` })
  stock: number;
}
