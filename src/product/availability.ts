/**
 * What a new hold can take: units the shop owns, minus units in active holds and pending orders
 * (`reserved`), plus the units of active holds already past `expires_at` (`lapsed`), which count
 * as free at once even before the expiry job has marked them.
 */
export function availableUnits(stock: number, reserved: number, lapsed: number): number {
  return stock - reserved + lapsed;
}

/**
 * Grants a batch of requested quantities in arrival order against `available`.
 * Returns, per request, whether it was granted and the availability it saw.
 */
export function allocate(available: number, qtys: number[]): { granted: boolean[]; seen: number[]; left: number } {
  let left = available;
  const granted: boolean[] = [];
  const seen: number[] = [];
  for (const qty of qtys) {
    seen.push(left);
    const ok = qty <= left;
    granted.push(ok);
    if (ok) left -= qty;
  }
  return { granted, seen, left };
}
