import { KeysetPageQuery, parseKeysetPageQuery } from '../../http/validation';

export const DEFAULT_MOVEMENT_PAGE_SIZE = 50;
export const MAX_MOVEMENT_PAGE_SIZE = 200;

/** `GET /api/products/:id/movements` query, parsed: page size and the keyset cursor. */
export type ListMovementsQuery = KeysetPageQuery;

/** Parses the query string as strictly as the order listing's (parseKeysetPageQuery). */
export function parseListMovementsQuery(query: Record<string, unknown>): ListMovementsQuery {
  return parseKeysetPageQuery(query, { default: DEFAULT_MOVEMENT_PAGE_SIZE, max: MAX_MOVEMENT_PAGE_SIZE });
}
