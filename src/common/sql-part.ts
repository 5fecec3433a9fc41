/**
 * One SELECT that a module owning a table hands to another module's statement (a UNION ALL
 * part), so a read that must happen under a lock costs no round trip of its own.
 */
export interface SqlPart {
  sql: string;
  params: unknown[];
}

/**
 * A part's tag as SQL text: the integer a UNION's rows carry to say which part they come from.
 * Tags are written into the SQL (a UNION's column needs a literal), so anything but a safe integer
 * is refused.
 */
export function partTag(part: number): string {
  if (!Number.isSafeInteger(part)) throw new TypeError(`a part tag must be an integer, got ${part}`);
  return String(part);
}
