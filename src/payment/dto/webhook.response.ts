import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STATUSES, OrderStatus } from '../../order/order-status';

export type WebhookResult = 'applied' | 'duplicate' | 'ignored' | 'deferred';

export class WebhookResponse {
  @ApiProperty({ example: 'evt_8f1c2a' })
  idempotency_key: string;

  @ApiProperty({ example: 5 })
  order_id: number;

  @ApiProperty({ enum: ['applied', 'duplicate', 'ignored', 'deferred'], example: 'applied' })
  result: WebhookResult;

  @ApiProperty({ enum: ORDER_STATUSES, nullable: true, example: 'paid', description: 'null while the order does not exist (deferred).' })
  order_status: OrderStatus | null;
}
