import { hash } from 'node:crypto';
import { codePointLength, isWellFormed } from './unicode';

/** The longest buyer (a buyer token's `sub`): the `buyer` columns are VARCHAR(255), in characters. */
export const MAX_BUYER_LENGTH = 255;

/**
 * A buyer is 1 to 255 characters (code points, as the column counts them) of well-formed Unicode:
 * a lone surrogate (a JSON `"\udc00"`) has no UTF-8 form, so it would be stored as U+FFFD and the
 * stored buyer would no longer be the token's.
 */
export function isBuyerId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2 * MAX_BUYER_LENGTH) return false;
  return isWellFormed(value) && codePointLength(value) <= MAX_BUYER_LENGTH;
}

/**
 * The Idempotency-Key scope of a route for a buyer: the route's own for anonymous requests
 * (BUYER_AUTH=off), else the route's and the buyer's, so that one buyer's key never answers
 * another buyer's request (a replay would hand over another buyer's hold or order). The buyer enters
 * as a digest, fixed-length and ASCII, as the scope column needs.
 */
export function buyerKeyScope(scope: string, buyer: string | null | undefined): string {
  return buyer ? `${scope}:${hash('sha256', buyer, 'base64url')}` : scope;
}
