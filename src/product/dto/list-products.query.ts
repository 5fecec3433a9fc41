import { KeysetPageQuery, parseKeysetPageQuery } from '../../http/validation';

export const DEFAULT_PRODUCT_PAGE_SIZE = 50;
export const MAX_PRODUCT_PAGE_SIZE = 200;

/** `GET /api/products` query, parsed: page size and the keyset cursor (products after this id). */
export type ListProductsQuery = KeysetPageQuery;

/** Parses the query string as strictly as the order listing's (parseKeysetPageQuery). */
export function parseListProductsQuery(query: Record<string, unknown>): ListProductsQuery {
  return parseKeysetPageQuery(query, { default: DEFAULT_PRODUCT_PAGE_SIZE, max: MAX_PRODUCT_PAGE_SIZE });
}
