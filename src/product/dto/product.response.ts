import { ApiProperty } from '@nestjs/swagger';
import { normalizeMoney } from '../../common/money';
import { ID_SCHEMA, MONEY_SCHEMA } from '../../http/openapi';
import { MAX_ID, MAX_PER_BUYER_LIMIT } from '../../http/validation';
import { availableUnits } from '../availability';

export class ProductResponse {
  @ApiProperty({ ...ID_SCHEMA, example: 1 })
  id: number;

  @ApiProperty({ example: 'Limited sneaker', minLength: 1, maxLength: 200 })
  name: string;

  @ApiProperty({ ...MONEY_SCHEMA, example: '99.00', description: 'Decimal string with two places.' })
  price: string;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: MAX_ID,
    example: 100,
    description: 'Units the shop still owns: initial units plus restocks minus units of paid orders.',
  })
  stock: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    maximum: MAX_ID,
    example: 73,
    description: 'What a new hold can take: stock minus active holds and pending orders.',
  })
  available: number;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PER_BUYER_LIMIT,
    nullable: true,
    example: 2,
    description: 'Most units one buyer may take (active holds, pending and paid orders); null: no limit.',
  })
  max_per_buyer: number | null;
}

/** A products row with its lapsed units, as read by ProductService. */
export interface ProductRow {
  id: number | string;
  name: string;
  price: string;
  stock: number | string;
  reserved: number | string;
  max_per_buyer: number | string | null;
  lapsed: number | string | null;
}

export function toProductResponse(row: ProductRow): ProductResponse {
  const stock = Number(row.stock);
  return {
    id: Number(row.id),
    name: row.name,
    price: normalizeMoney(row.price),
    stock,
    available: availableUnits(stock, Number(row.reserved), Number(row.lapsed ?? 0)),
    max_per_buyer: row.max_per_buyer === null || row.max_per_buyer === undefined ? null : Number(row.max_per_buyer),
  };
}

export class ProductListResponse {
  @ApiProperty({ type: [ProductResponse] })
  data: ProductResponse[];

  /** The cursor of the next page (`after_id`), or null when no product follows this page. */
  @ApiProperty({ ...ID_SCHEMA, nullable: true, example: 50 })
  next_after_id: number | null;
}
