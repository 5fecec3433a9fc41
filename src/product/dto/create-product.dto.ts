import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { MONEY_PATTERN } from '../../common/money';
import { MONEY_SCHEMA } from '../../http/openapi';
import { MAX_PER_BUYER_LIMIT } from '../../http/validation';

export const MAX_STOCK_UNITS = 1_000_000_000;

/** `max_per_buyer` as both admin routes take it: an integer 1..10^6, or null for no limit. */
export function MaxPerBuyer(): PropertyDecorator {
  const decorators: PropertyDecorator[] = [
    ApiPropertyOptional({
      type: 'integer',
      minimum: 1,
      maximum: MAX_PER_BUYER_LIMIT,
      nullable: true,
      example: 2,
      description: 'Most units one buyer may hold, have pending and have bought (needs BUYER_AUTH=jwt); null: no limit.',
    }),
    IsOptional(),
    IsInt({ message: 'must be an integer or null' }),
    Min(1, { message: `must be an integer from 1 to ${MAX_PER_BUYER_LIMIT} or null` }),
    Max(MAX_PER_BUYER_LIMIT, { message: `must be an integer from 1 to ${MAX_PER_BUYER_LIMIT} or null` }),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
}

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

  @MaxPerBuyer()
  max_per_buyer?: number | null;
}
