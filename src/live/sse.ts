/**
 * The text/event-stream format of the availability stream, and the timing rules of its ticks:
 * pure functions, unit-tested in sse.spec.ts.
 */

/** What one availability event carries (`data:` of `event: availability`). */
export interface AvailabilityData {
  product_id: number;
  stock: number;
  available: number;
  /** When the service read this value (ISO-8601 UTC). */
  at: string;
}

/** How soon a browser should reconnect after the stream breaks (`retry:`). */
export const RETRY_MS = 2000;
/**
 * At most one event per product per this many ms (4 per second, within the 10 the contract allows;
 * each event is one write per open stream, so fewer cost the hot paths less); the latest value wins.
 */
export const MIN_EVENT_GAP_MS = 250;
/** A comment line this often keeps proxies from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
export const HEARTBEAT = ': keep-alive\n\n';

/** One event block; `retryMs` adds a `retry:` line (the first event of a stream). */
export function sseEvent(id: number, event: string, data: unknown, retryMs?: number): string {
  const retry = retryMs === undefined ? '' : `retry: ${retryMs}\n`;
  return `${retry}id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Event ids increase: the clock in ms, or one more than the last id when the clock has not moved on. */
export function nextEventId(previous: number, now: number): number {
  return Math.max(now, previous + 1);
}

/** How long a product's next read must wait so that its reads (and so its events) are MIN_EVENT_GAP_MS apart. */
export function tickDelay(lastTickAt: number | undefined, now: number, gapMs = MIN_EVENT_GAP_MS): number {
  return lastTickAt === undefined ? 0 : Math.max(0, lastTickAt + gapMs - now);
}

/** The longest a lapse timer is set for; a later lapse is re-checked then. */
export const MAX_LAPSE_WAIT_MS = 3_600_000;

/** How long to wait until just after `lapseAt` (a hold or order then reads as lapsed). */
export function lapseDelay(lapseAt: number, now: number): number {
  return Math.min(MAX_LAPSE_WAIT_MS, Math.max(0, lapseAt - now + 5));
}
