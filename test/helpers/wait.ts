/**
 * Waiting on conditions instead of sleeping on margins.
 *
 * The tests and the application under test run in one process (startTestApp), or on one machine
 * (startService), so `Date.now()` here and `new Date()` in the service read the same clock. An
 * instant measured just before a request is sent is at or before every clock reading the service
 * makes for it, and an instant measured just after its answer arrived is at or after them. That
 * lets a test decide exactly what an answer must say relative to a deadline it knows (a hold's
 * `expires_at`, a cache entry's end of life), without guessing how long anything takes.
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A request's result with the instant just before it was sent and the instant just after it answered. */
export interface Timed<T> {
  value: T;
  sent: number;
  done: number;
}

export async function timed<T>(work: () => PromiseLike<T>): Promise<Timed<T>> {
  const sent = Date.now();
  const value = await work();
  return { value, sent, done: Date.now() };
}

/** Resolves once `Date.now()` has reached `instant` (a timer may fire early, so it checks again). */
export async function untilInstant(instant: number): Promise<void> {
  for (let left = instant - Date.now(); left > 0; left = instant - Date.now()) await sleep(left);
}

/**
 * Calls `probe` until `done` accepts its value and returns that value. Past `timeoutMs` it throws
 * an error that names the condition and the last value seen, so a test fails with a reason instead
 * of on the jest timeout.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => T | PromiseLike<T>,
  done: (value: T) => boolean,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}; last seen: ${describe(value)}`);
    }
    await sleep(intervalMs);
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
