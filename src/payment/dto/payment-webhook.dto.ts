import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Length, Matches, Max, Min } from 'class-validator';
import { ID_SCHEMA } from '../../http/openapi';
import { MAX_ID } from '../../http/validation';
import { PaymentOutcome } from '../payment-outcome';

export const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;

export class PaymentWebhookDto {
  @ApiProperty({ example: 'evt_8f1c2a', minLength: 1, maxLength: 255, pattern: PRINTABLE_ASCII.source, description: 'Printable ASCII (0x20-0x7E).' })
  @IsString({ message: 'must be a string' })
  @Length(1, 255, { message: 'must be 1 to 255 characters long' })
  @Matches(PRINTABLE_ASCII, { message: 'must contain only printable ASCII characters' })
  idempotency_key: string;

  @ApiProperty({ ...ID_SCHEMA, example: 5 })
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: `must be an integer from 1 to ${MAX_ID}` })
  @Max(MAX_ID, { message: `must be an integer from 1 to ${MAX_ID}` })
  order_id: number;

  @ApiProperty({ enum: ['success', 'failure'], example: 'success' })
  @IsIn(['success', 'failure'], { message: 'must be "success" or "failure"' })
  status: PaymentOutcome;
}
