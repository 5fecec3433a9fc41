import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ID_SCHEMA } from '../../http/openapi';
import { integerBody } from '../../http/integer-body';
import { MAX_ID } from '../../http/validation';

/**
 * The body of POST /api/orders. Its decorators are the rules and the OpenAPI schema; the route
 * checks them with `parseCreateOrder`, compiled from the same rules (see integerBody).
 */
export class CreateOrderDto {
  @ApiProperty({ ...ID_SCHEMA, example: 17 })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_ID}` })
  @Max(MAX_ID, { message: `must be an integer from 1 to ${MAX_ID}` })
  hold_id: number;
}

/** Checks an order's body as the decorators above say; throws ValidationFailedError. */
export const parseCreateOrder: (body: unknown) => CreateOrderDto = integerBody<keyof CreateOrderDto>([
  { name: 'hold_id', min: 1, max: MAX_ID, belowMin: `must be an integer from 1 to ${MAX_ID}`, aboveMax: `must be an integer from 1 to ${MAX_ID}` },
]);
