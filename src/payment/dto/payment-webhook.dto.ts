import { IsIn, IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { MAX_ID } from '../../common/validation';
import { PaymentOutcome } from '../../order/order-transitions';

export class PaymentWebhookDto {
  @IsString({ message: 'must be a string' })
  @Length(1, 255, { message: 'must be 1 to 255 characters long' })
  @Matches(/^[\x20-\x7E]+$/, { message: 'must contain only printable ASCII characters' })
  idempotency_key: string;

  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_ID}` })
  @Max(MAX_ID, { message: `must be an integer from 1 to ${MAX_ID}` })
  order_id: number;

  @IsIn(['success', 'failure'], { message: 'must be "success" or "failure"' })
  status: PaymentOutcome;
}
