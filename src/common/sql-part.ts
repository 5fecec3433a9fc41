/**
 * One SELECT that a module owning a table hands to another module's statement (a UNION ALL
 * part), so a read that must happen under a lock costs no round trip of its own.
 */
export interface SqlPart {
  sql: string;
  params: unknown[];
}
