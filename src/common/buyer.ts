/** The longest buyer (a buyer token's `sub`): the `buyer` columns are VARCHAR(255), in characters. */
export const MAX_BUYER_LENGTH = 255;

/** A buyer is 1 to 255 characters (code points, as the column counts them). */
export function isBuyerId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2 * MAX_BUYER_LENGTH) return false;
  return [...value].length <= MAX_BUYER_LENGTH;
}
