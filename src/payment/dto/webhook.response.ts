import { OrderStatus } from '../../order/order.entity';

export type WebhookResult = 'applied' | 'duplicate' | 'ignored' | 'deferred';

export interface WebhookResponse {
  idempotency_key: string;
  order_id: number;
  result: WebhookResult;
  order_status: OrderStatus | null;
}
