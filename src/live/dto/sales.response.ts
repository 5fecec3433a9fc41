import { ApiProperty } from '@nestjs/swagger';
import { ID_SCHEMA, TIME_SCHEMA } from '../../http/openapi';
import { MAX_ID } from '../../http/validation';

const UNITS = { type: 'integer', minimum: 0, maximum: MAX_ID } as const;

export class ProductSales {
  @ApiProperty({ ...ID_SCHEMA, example: 1 })
  product_id: number;

  @ApiProperty({ example: 'Limited sneaker', minLength: 1, maxLength: 200 })
  name: string;

  @ApiProperty({ ...UNITS, example: 98, description: 'Units the shop still owns.' })
  stock: number;

  @ApiProperty({ ...UNITS, example: 71, description: 'What a new hold can take now.' })
  available: number;

  @ApiProperty({ ...UNITS, example: 27, description: 'Units in active holds and pending orders (stock − available).' })
  held: number;

  @ApiProperty({ ...UNITS, example: 2, description: 'Units of paid orders.' })
  sold: number;

  @ApiProperty({ ...UNITS, example: 31, description: 'Holds ever granted on the product, whatever became of them.' })
  holds: number;
}

export class SalesResponse {
  @ApiProperty({ type: [ProductSales] })
  data: ProductSales[];

  @ApiProperty({ ...TIME_SCHEMA, example: '2026-11-30T13:27:07.661Z', description: 'When the figures were read.' })
  at: string;
}
