import { IsInt, Max, Min } from 'class-validator';
import { MAX_ID } from '../../common/validation';

export class CreateHoldDto {
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_ID}` })
  @Max(MAX_ID, { message: `must be an integer from 1 to ${MAX_ID}` })
  product_id: number;

  /** The upper bound is MAX_HOLD_QTY, checked by HoldService (it is configuration, not a constant). */
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  qty: number;
}
