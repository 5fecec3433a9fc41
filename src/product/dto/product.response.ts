import { normalizeMoney } from '../../common/money';
import { availableUnits } from '../availability';

export interface ProductResponse {
  id: number;
  name: string;
  price: string;
  stock: number;
  available: number;
}

/** A products row with its lapsed units, as read by ProductService. */
export interface ProductRow {
  id: number | string;
  name: string;
  price: string;
  stock: number | string;
  reserved: number | string;
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
  };
}

export interface ProductListResponse {
  data: ProductResponse[];
}

export function toProductList(products: ProductResponse[]): ProductListResponse {
  return { data: products };
}
