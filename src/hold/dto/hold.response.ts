import { ApiProperty } from '@nestjs/swagger';
import { MAX_HOLD_QTY_LIMIT } from '../../config/config';
import { BUYER_SCHEMA, ID_SCHEMA, TIME_SCHEMA } from '../../http/openapi';
import { Hold, HoldStatus } from '../hold.entity';
import { holdStatusAt } from '../hold-lapse';

export class HoldResponse {
  @ApiProperty({ ...ID_SCHEMA, example: 17 })
  id: number;

  @ApiProperty({ ...ID_SCHEMA, example: 1 })
  product_id: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: MAX_HOLD_QTY_LIMIT, example: 2 })
  qty: number;

  @ApiProperty({ enum: ['active', 'expired', 'converted'], example: 'active' })
  status: HoldStatus;

  @ApiProperty({ ...TIME_SCHEMA, example: '2026-11-23T10:02:00.000Z' })
  expires_at: string;

  @ApiProperty({ ...TIME_SCHEMA, example: '2026-11-23T10:00:00.000Z' })
  created_at: string;

  @ApiProperty({ ...BUYER_SCHEMA, nullable: true, example: 'user-8f3a', description: "The buyer token's sub; null when BUYER_AUTH=off." })
  buyer: string | null;
}

export function toHoldResponse(hold: Hold, now = new Date()): HoldResponse {
  return {
    id: hold.id,
    product_id: hold.productId,
    qty: hold.qty,
    status: holdStatusAt(hold, now),
    expires_at: hold.expiresAt.toISOString(),
    created_at: hold.createdAt.toISOString(),
    buyer: hold.buyer ?? null,
  };
}
