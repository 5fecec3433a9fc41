import { ApiProperty } from '@nestjs/swagger';
import { ID_SCHEMA, TIME_SCHEMA } from '../../http/openapi';
import { MOVEMENT_KINDS, MovementKind } from '../movement-kind';

const DELTA_SCHEMA = { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } as const;
const NULLABLE_ID = { ...ID_SCHEMA, nullable: true } as const;

export class MovementResponse {
  @ApiProperty({ ...ID_SCHEMA, example: 981 })
  id: number;

  @ApiProperty({ ...ID_SCHEMA, example: 1 })
  product_id: number;

  @ApiProperty({ enum: MOVEMENT_KINDS, example: 'hold' })
  kind: MovementKind;

  @ApiProperty({ ...DELTA_SCHEMA, example: 0, description: 'Signed change of `stock`.' })
  stock_delta: number;

  @ApiProperty({ ...DELTA_SCHEMA, example: 2, description: 'Signed change of `reserved`.' })
  reserved_delta: number;

  @ApiProperty({ ...NULLABLE_ID, example: 17 })
  hold_id: number | null;

  @ApiProperty({ ...NULLABLE_ID, example: null })
  order_id: number | null;

  @ApiProperty({ ...NULLABLE_ID, example: null })
  payment_event_id: number | null;

  @ApiProperty({ ...TIME_SCHEMA, example: '2026-11-23T10:00:03.120Z' })
  created_at: string;
}

export class MovementPage {
  @ApiProperty({ type: [MovementResponse] })
  data: MovementResponse[];

  /** The cursor of the next page (`after_id`), or null when no movement follows this page. */
  @ApiProperty({ ...ID_SCHEMA, nullable: true, example: 1030 })
  next_after_id: number | null;
}

/** A row of the listing statement: the product's id, and one movement's columns (all null when it has none). */
export interface MovementRow {
  product: number | string;
  id: number | string | null;
  product_id: number | string | null;
  kind: MovementKind | null;
  stock_delta: number | string | null;
  reserved_delta: number | string | null;
  hold_id: number | string | null;
  order_id: number | string | null;
  payment_event_id: number | string | null;
  created_at: Date | null;
}

const idOrNull = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toMovementResponse(row: MovementRow): MovementResponse {
  return {
    id: Number(row.id),
    product_id: Number(row.product_id),
    kind: row.kind as MovementKind,
    stock_delta: Number(row.stock_delta),
    reserved_delta: Number(row.reserved_delta),
    hold_id: idOrNull(row.hold_id),
    order_id: idOrNull(row.order_id),
    payment_event_id: idOrNull(row.payment_event_id),
    created_at: (row.created_at as Date).toISOString(),
  };
}
