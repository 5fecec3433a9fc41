import { FieldProblem, ValidationFailedError } from '../../common/errors';
import { MAX_ID, queryInteger as integer } from '../../http/validation';
import { ORDER_STATUSES, OrderStatus } from '../order-status';
import { isBuyerId, MAX_BUYER_LENGTH } from '../../common/buyer';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** `GET /api/orders` query, parsed: filters, page size and the keyset cursor (orders after this id). */
export interface ListOrdersQuery {
  status?: OrderStatus;
  productId?: number;
  refundDue?: boolean;
  buyer?: string;
  limit: number;
  afterId: number;
}

/**
 * Parses the query string strictly: each parameter at most once, decimal integers only, unknown
 * parameters refused. Throws ValidationFailedError listing every problem.
 */
export function parseListOrdersQuery(query: Record<string, unknown>): ListOrdersQuery {
  const problems: FieldProblem[] = [];
  const out: ListOrdersQuery = { limit: DEFAULT_PAGE_SIZE, afterId: 0 };
  for (const [field, value] of Object.entries(query)) {
    if (typeof value !== 'string') {
      problems.push({ field, problem: 'must be given once' });
      continue;
    }
    switch (field) {
      case 'status':
        if ((ORDER_STATUSES as readonly string[]).includes(value)) out.status = value as OrderStatus;
        else problems.push({ field, problem: `must be one of ${ORDER_STATUSES.join(', ')}` });
        break;
      case 'product_id':
        out.productId = integer(value, 1, MAX_ID);
        if (out.productId === undefined) problems.push({ field, problem: `must be an integer from 1 to ${MAX_ID}` });
        break;
      case 'refund_due':
        if (value === 'true' || value === 'false') out.refundDue = value === 'true';
        else problems.push({ field, problem: 'must be true or false' });
        break;
      case 'buyer':
        if (isBuyerId(value)) out.buyer = value;
        else problems.push({ field, problem: `must be 1 to ${MAX_BUYER_LENGTH} characters` });
        break;
      case 'limit': {
        const limit = integer(value, 1, MAX_PAGE_SIZE);
        if (limit === undefined) problems.push({ field, problem: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
        else out.limit = limit;
        break;
      }
      case 'after_id': {
        const afterId = integer(value, 0, MAX_ID);
        if (afterId === undefined) problems.push({ field, problem: `must be an integer from 0 to ${MAX_ID}` });
        else out.afterId = afterId;
        break;
      }
      default:
        problems.push({ field, problem: 'is not allowed' });
    }
  }
  if (problems.length > 0) throw new ValidationFailedError(problems);
  return out;
}
