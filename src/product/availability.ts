/**
 * What a new hold can take: units the shop owns, minus units in active holds and pending orders
 * (`reserved`), plus the units of active holds already past `expires_at` (`lapsed`), which count
 * as free at once even before the expiry job has marked them.
 */
export function availableUnits(stock: number, reserved: number, lapsed: number): number {
  return stock - reserved + lapsed;
}

/** A further rule a request must pass before it may take units (the per-buyer limit). */
export interface Admission {
  /** Whether request `index` of `qty` units may go on; false refuses it (and takes no units). */
  admits(index: number, qty: number): boolean;
  /** Request `index` was granted its `qty` units. */
  granted(index: number, qty: number): void;
}

/**
 * Grants a batch of requested quantities in arrival order against `available`, each first passing
 * `admission` when there is one. Returns, per request, whether it was granted and the
 * availability it saw.
 */
export function allocate(available: number, qtys: number[], admission?: Admission): { granted: boolean[]; seen: number[]; left: number } {
  let left = available;
  const granted: boolean[] = [];
  const seen: number[] = [];
  qtys.forEach((qty, i) => {
    seen.push(left);
    const ok = (!admission || admission.admits(i, qty)) && qty <= left;
    granted.push(ok);
    if (ok) {
      left -= qty;
      admission?.granted(i, qty);
    }
  });
  return { granted, seen, left };
}
