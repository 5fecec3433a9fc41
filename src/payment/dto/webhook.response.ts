import { ApiProperty } from '@nestjs/swagger';
import { ID_SCHEMA } from '../../http/openapi';
import { ORDER_STATUSES, OrderStatus } from '../../order/order-status';
import { PRINTABLE_ASCII } from './payment-webhook.dto';

export type WebhookResult = 'applied' | 'duplicate' | 'ignored' | 'deferred' | 'late';

export class WebhookResponse {
  @ApiProperty({ example: 'evt_8f1c2a', minLength: 1, maxLength: 255, pattern: PRINTABLE_ASCII.source, description: 'As sent.' })
  idempotency_key: string;

  @ApiProperty({ ...ID_SCHEMA, example: 5 })
  order_id: number;

  @ApiProperty({
    enum: ['applied', 'duplicate', 'ignored', 'deferred', 'late'],
    example: 'applied',
    description: "`late`: a success after the order's payment deadline; the order stays expired and owes a refund.",
  })
  result: WebhookResult;

  @ApiProperty({ enum: ORDER_STATUSES, nullable: true, example: 'paid', description: 'null while the order does not exist (deferred).' })
  order_status: OrderStatus | null;
}
