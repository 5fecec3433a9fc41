import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import { MONEY_PATTERN } from '../../common/money';
import { codePointLength, isWellFormed } from '../../common/unicode';
import { MONEY_SCHEMA } from '../../http/openapi';
import { MAX_PER_BUYER_LIMIT } from '../../http/validation';

export const MAX_STOCK_UNITS = 1_000_000_000;
/** The longest product name: the `name` column is VARCHAR(200), in characters. */
export const MAX_NAME_LENGTH = 200;

/**
 * A product name: 1 to 200 characters counted as the column counts them, code points, and
 * well-formed. (class-validator's MaxLength counts a letter and the variation selector after it
 * as one, so 201 characters reached the column, a 500; a lone surrogate was stored as U+FFFD.)
 */
function ProductName(): PropertyDecorator {
  const decorators: PropertyDecorator[] = [
    ValidateBy({
      name: 'productNameLength',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.length > 0 && codePointLength(value) <= MAX_NAME_LENGTH,
        defaultMessage: () => `must be 1 to ${MAX_NAME_LENGTH} characters`,
      },
    }),
    ValidateBy({
      name: 'wellFormed',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isWellFormed(value),
        defaultMessage: () => 'must be well-formed Unicode (no lone surrogate)',
      },
    }),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
}

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
  @ApiProperty({
    example: 'Limited sneaker',
    minLength: 1,
    maxLength: MAX_NAME_LENGTH,
    pattern: '\\S',
    description: 'Characters are code points; not only whitespace; well-formed (no lone surrogate).',
  })
  @IsString({ message: 'must be a string' })
  @ProductName()
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
