// Money is handled as integer cents; it enters and leaves the service as a two-place string.

/** A price as the API takes it: up to 10 integer digits (DECIMAL(12,2)) and exactly two places. */
export const MONEY_PATTERN = /^(\d{1,10})\.(\d{2})$/;

export function isMoney(value: unknown): value is string {
  return typeof value === 'string' && MONEY_PATTERN.test(value);
}

export function toCents(value: string): bigint {
  const m = MONEY_PATTERN.exec(value);
  if (!m) throw new Error(`not a money string: ${value}`);
  return BigInt(m[1]) * 100n + BigInt(m[2]);
}

export function fromCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** unit price × quantity, exactly. */
export function lineTotal(unitPrice: string, qty: number): string {
  return fromCents(toCents(unitPrice) * BigInt(qty));
}

/** DECIMAL columns come back from mysql2 as strings such as "99.00"; normalise to two places. */
export function normalizeMoney(value: string | number): string {
  const s = typeof value === 'number' ? value.toFixed(2) : value;
  const [whole, frac = ''] = s.split('.');
  return `${whole}.${(frac + '00').slice(0, 2)}`;
}
