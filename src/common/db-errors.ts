/**
 * Classification of MySQL/MariaDB driver errors. TypeORM wraps driver errors in
 * QueryFailedError with the mysql2 error as `driverError`; connection failures may come bare.
 */
interface DriverErrorLike {
  code?: string;
  errno?: number;
  message?: string;
  driverError?: DriverErrorLike;
}

function driverError(err: unknown): DriverErrorLike | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as DriverErrorLike;
  return e.driverError ?? e;
}

const ER_DUP_ENTRY = 1062;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;

/** Deadlock or lock-wait timeout: the whole transaction may be rolled back and run again. */
export function retryReason(err: unknown): 'deadlock' | 'lock_wait_timeout' | undefined {
  const e = driverError(err);
  if (e?.errno === ER_LOCK_DEADLOCK) return 'deadlock';
  if (e?.errno === ER_LOCK_WAIT_TIMEOUT) return 'lock_wait_timeout';
  return undefined;
}

export function isDuplicateKey(err: unknown): boolean {
  return driverError(err)?.errno === ER_DUP_ENTRY;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
  'CR_SERVER_GONE_ERROR',
  'CR_SERVER_LOST',
]);

const CONNECTION_MESSAGES = ['Pool is closed', 'connection is in closed state', 'Connection lost', 'No connection', 'Queue limit reached', 'connect ETIMEDOUT'];

/** The database cannot be reached (or went away mid-request): the client gets 503 and may retry. */
export function isConnectionError(err: unknown): boolean {
  const e = driverError(err);
  if (!e) return false;
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  if (e.errno === 2006 || e.errno === 2013 || e.errno === 1927 || e.errno === 1053) return true;
  const message = e.message ?? '';
  return CONNECTION_MESSAGES.some((m) => message.includes(m));
}
