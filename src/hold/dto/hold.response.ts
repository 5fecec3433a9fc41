import { ApiProperty } from '@nestjs/swagger';
import { Hold, HoldStatus } from '../hold.entity';
import { holdStatusAt } from '../hold-lapse';

export class HoldResponse {
  @ApiProperty({ example: 17 })
  id: number;

  @ApiProperty({ example: 1 })
  product_id: number;

  @ApiProperty({ example: 2 })
  qty: number;

  @ApiProperty({ enum: ['active', 'expired', 'converted'], example: 'active' })
  status: HoldStatus;

  @ApiProperty({ example: '2026-11-23T10:02:00.000Z' })
  expires_at: string;

  @ApiProperty({ example: '2026-11-23T10:00:00.000Z' })
  created_at: string;
}

export function toHoldResponse(hold: Hold, now = new Date()): HoldResponse {
  return {
    id: hold.id,
    product_id: hold.productId,
    qty: hold.qty,
    status: holdStatusAt(hold, now),
    expires_at: hold.expiresAt.toISOString(),
    created_at: hold.createdAt.toISOString(),
  };
}
