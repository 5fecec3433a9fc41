import { FieldProblem, ValidationFailedError } from '../../common/errors';
import { MAX_ID, queryInteger as integer } from '../../http/validation';

export const DEFAULT_MOVEMENT_PAGE_SIZE = 50;
export const MAX_MOVEMENT_PAGE_SIZE = 200;

/** `GET /api/products/:id/movements` query, parsed: page size and the keyset cursor. */
export interface ListMovementsQuery {
  limit: number;
  afterId: number;
}

/**
 * Parses the query string strictly, like the order listing: each parameter at most once, decimal
 * integers only, unknown parameters refused. Throws ValidationFailedError listing every problem.
 */
export function parseListMovementsQuery(query: Record<string, unknown>): ListMovementsQuery {
  const problems: FieldProblem[] = [];
  const out: ListMovementsQuery = { limit: DEFAULT_MOVEMENT_PAGE_SIZE, afterId: 0 };
  for (const [field, value] of Object.entries(query)) {
    if (typeof value !== 'string') {
      problems.push({ field, problem: 'must be given once' });
      continue;
    }
    if (field === 'limit') {
      const limit = integer(value, 1, MAX_MOVEMENT_PAGE_SIZE);
      if (limit === undefined) problems.push({ field, problem: `must be an integer from 1 to ${MAX_MOVEMENT_PAGE_SIZE}` });
      else out.limit = limit;
    } else if (field === 'after_id') {
      const afterId = integer(value, 0, MAX_ID);
      if (afterId === undefined) problems.push({ field, problem: `must be an integer from 0 to ${MAX_ID}` });
      else out.afterId = afterId;
    } else {
      problems.push({ field, problem: 'is not allowed' });
    }
  }
  if (problems.length > 0) throw new ValidationFailedError(problems);
  return out;
}
