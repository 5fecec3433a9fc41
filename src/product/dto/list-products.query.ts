import { FieldProblem, ValidationFailedError } from '../../common/errors';
import { MAX_ID, queryInteger } from '../../http/validation';

export const DEFAULT_PRODUCT_PAGE_SIZE = 50;
export const MAX_PRODUCT_PAGE_SIZE = 200;

/** `GET /api/products` query, parsed: page size and the keyset cursor (products after this id). */
export interface ListProductsQuery {
  limit: number;
  afterId: number;
}

/**
 * Parses the query string as strictly as the order listing's: each parameter at most once,
 * plain decimal integers in range, unknown parameters refused. Throws ValidationFailedError
 * listing every problem.
 */
export function parseListProductsQuery(query: Record<string, unknown>): ListProductsQuery {
  const problems: FieldProblem[] = [];
  const out: ListProductsQuery = { limit: DEFAULT_PRODUCT_PAGE_SIZE, afterId: 0 };
  for (const [field, value] of Object.entries(query)) {
    if (typeof value !== 'string') {
      problems.push({ field, problem: 'must be given once' });
      continue;
    }
    if (field === 'limit') {
      const limit = queryInteger(value, 1, MAX_PRODUCT_PAGE_SIZE);
      if (limit === undefined) problems.push({ field, problem: `must be an integer from 1 to ${MAX_PRODUCT_PAGE_SIZE}` });
      else out.limit = limit;
    } else if (field === 'after_id') {
      const afterId = queryInteger(value, 0, MAX_ID);
      if (afterId === undefined) problems.push({ field, problem: `must be an integer from 0 to ${MAX_ID}` });
      else out.afterId = afterId;
    } else {
      problems.push({ field, problem: 'is not allowed' });
    }
  }
  if (problems.length > 0) throw new ValidationFailedError(problems);
  return out;
}
