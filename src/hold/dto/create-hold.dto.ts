import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_HOLD_QTY_LIMIT } from '../../config/config';
import { ID_SCHEMA } from '../../http/openapi';
import { integerBody } from '../../http/integer-body';
import { MAX_ID } from '../../http/validation';

/**
 * The body of POST /api/holds. Its decorators are the rules and the OpenAPI schema; the route
 * checks them with `parseCreateHold`, compiled from the same rules (see integerBody).
 */
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

/** Checks a hold's body as the decorators above say; throws ValidationFailedError. */
export const parseCreateHold: (body: unknown) => CreateHoldDto = integerBody<keyof CreateHoldDto>([
  { name: 'product_id', min: 1, max: MAX_ID, belowMin: `must be an integer from 1 to ${MAX_ID}`, aboveMax: `must be an integer from 1 to ${MAX_ID}` },
  { name: 'qty', min: 1, belowMin: 'must be at least 1' },
]);
