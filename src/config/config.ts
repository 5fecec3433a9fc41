import { createPublicKey, KeyObject } from 'node:crypto';
import { MONEY_PATTERN } from '../common/money';

/**
 * The service's configuration: read from the environment once, at start, into one typed object.
 * A bad value stops the start with a ConfigError that names the variable (see main.ts).
 */
export type DbType = 'mysql' | 'mariadb';

export interface AppConfig {
  nodeEnv: string;
  port: number;
  db: {
    /** Undefined means "ask the server" (ensureDatabase resolves it before the pool starts). */
    type: DbType | undefined;
    host: string;
    port: number;
    user: string;
    password: string;
    name: string;
    poolSize: number;
    /** innodb_lock_wait_timeout for every session: a stuck lock fails fast instead of after 50 s. */
    lockWaitTimeoutSeconds: number;
    /** How long a request waits for a free pool connection (and a new connection to open). */
    connectTimeoutMs: number;
    /**
     * How long one statement of the app's pool may take to answer; then its connection is thrown
     * away and the request fails with 503. Longer than the lock wait, so a lock-wait timeout still
     * ends as one. Migrations are not bounded by it.
     */
    queryTimeoutMs: number;
  };
  redisUrl: string | undefined;
  holdTtlSeconds: number;
  /** How long an order waits for its payment before it expires and its units return to the sale. */
  orderPaymentTtlSeconds: number;
  holdSweepIntervalSeconds: number;
  /** Ended holds (expired, or converted with a final order) are deleted this many days after they ended. */
  holdRetentionDays: number;
  availabilityCacheTtlMs: number;
  maxHoldQty: number;
  /** Most holds of one product an instance keeps waiting for their batch; beyond it, 503 at once. */
  holdQueueMax: number;
  /** Longest a hold may wait for its batch to start; then 503, and it is never granted. */
  holdQueueTimeoutMs: number;
  /** A wait for a product row lock at least this long is logged as `stock.lock_wait`. */
  stockLockWaitLogMs: number;
  webhookSecret: string;
  adminToken: string | undefined;
  seedProductStock: number;
  seedProductPrice: string;
  logLevel: string;
  /** Open availability streams one instance serves; past it a new stream is 503. */
  streamMaxClients: number;
  /** `off`: anonymous buyers (buyer null); `jwt`: the buyer routes need a buyer token (BuyerTokenVerifier). */
  buyerAuth: 'off' | 'jwt';
  /** How buyer tokens are verified; set when buyerAuth is `jwt`. */
  buyerJwt: BuyerJwtConfig | undefined;
  /** Take the client address from X-Forwarded-For (behind a load balancer). */
  trustProxy: boolean;
  /** Per buyer (else per address) and minute: POST /api/holds and POST /api/orders together; 0 is off. */
  rateLimitHoldsPerMinute: number;
  /** Per buyer (else per address) and minute: the other public routes; 0 is off. */
  rateLimitReadsPerMinute: number;
}

/** Either an HS256 secret or a public key (RS256 for RSA, ES256 for EC P-256), never both. */
export type BuyerJwtConfig = ({ algorithm: 'HS256'; secret: string } | { algorithm: 'RS256' | 'ES256'; publicKey: KeyObject }) & {
  issuer: string | undefined;
  audience: string | undefined;
};

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/** The largest MAX_HOLD_QTY may be set to: the hard bound of a hold's `qty` whatever the configuration. */
export const MAX_HOLD_QTY_LIMIT = 1000;

/** DB_QUERY_TIMEOUT_MS's default: the lock wait plus this much. */
const QUERY_TIMEOUT_MARGIN_DEFAULT_MS = 5000;
/** DB_QUERY_TIMEOUT_MS must exceed the lock wait by at least this much (the lock-wait error's round trip). */
const QUERY_TIMEOUT_MARGIN_MIN_MS = 1000;

/** Used only outside production, so a developer can start the service with no set-up. */
export const DEV_WEBHOOK_SECRET = 'dev-webhook-secret-not-for-production';

type Env = Record<string, string | undefined>;

/** An ADMIN_TOKEN a client can send: printable ASCII, no space at either end. */
const ADMIN_TOKEN_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * A refused value as the error line shows it: quoted, with line breaks and other control
 * characters escaped (JSON's escapes), so the line stays one line whatever the value holds.
 */
function shown(value: string): string {
  return JSON.stringify(value);
}

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got ${shown(raw)}`);
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got ${shown(raw)}`);
  }
  return value;
}

function strVar(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got ${shown(raw)}`);
  }
  return raw as T;
}

/**
 * A PEM private key of any kind: OpenSSL reads one only under a label ending in `PRIVATE KEY`
 * (PKCS#8 `PRIVATE KEY` and `ENCRYPTED PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`, SEC1
 * `EC PRIVATE KEY`, …).
 */
const PEM_PRIVATE_KEY = /-----BEGIN [^-]*PRIVATE KEY-----/;

/**
 * BUYER_JWT_PUBLIC_KEY must not hold a private key, whether BUYER_AUTH is `jwt` or not: the
 * service only verifies tokens, and createPublicKey would quietly derive the public key from a
 * private one, so the service would start holding a key that signs tokens for any buyer. Checked
 * on the label, before any parsing, so an encrypted or malformed private key is refused the same.
 */
function refusePrivateBuyerKey(env: Env): void {
  const pem = env.BUYER_JWT_PUBLIC_KEY;
  if (pem && PEM_PRIVATE_KEY.test(pem)) throw new ConfigError('BUYER_JWT_PUBLIC_KEY', 'must be a public key, not a private key');
}

/**
 * BUYER_JWT_SECRET or BUYER_JWT_PUBLIC_KEY (a PEM; `\\n` escapes are accepted, since many
 * environments cannot hold a line break), the algorithm following from the key.
 */
function buyerJwt(env: Env): BuyerJwtConfig {
  const secret = env.BUYER_JWT_SECRET || undefined;
  const pem = env.BUYER_JWT_PUBLIC_KEY || undefined;
  const issuer = env.BUYER_JWT_ISSUER || undefined;
  const audience = env.BUYER_JWT_AUDIENCE || undefined;
  if (secret && pem) throw new ConfigError('BUYER_JWT_PUBLIC_KEY', 'must not be set together with BUYER_JWT_SECRET');
  if (secret) return { algorithm: 'HS256', secret, issuer, audience };
  if (!pem) throw new ConfigError('BUYER_JWT_SECRET', 'or BUYER_JWT_PUBLIC_KEY must be set when BUYER_AUTH=jwt');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem.replace(/\\n/g, '\n'));
  } catch {
    throw new ConfigError('BUYER_JWT_PUBLIC_KEY', 'must be a PEM public key (RSA, or EC on P-256)');
  }
  if (publicKey.asymmetricKeyType === 'rsa') {
    // RFC 7518 §3.3: RS256 keys are 2048 bits or more; a shorter one can be factored.
    if ((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new ConfigError('BUYER_JWT_PUBLIC_KEY', 'must be an RSA key of at least 2048 bits');
    return { algorithm: 'RS256', publicKey, issuer, audience };
  }
  if (publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { algorithm: 'ES256', publicKey, issuer, audience };
  }
  throw new ConfigError('BUYER_JWT_PUBLIC_KEY', 'must be a PEM public key (RSA, or EC on P-256)');
}

function boolVar(env: Env, name: string): boolean {
  return oneOf(env, name, ['true', 'false'] as const, 'false') === 'true';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = strVar(env, 'NODE_ENV', 'development');
  const price = strVar(env, 'SEED_PRODUCT_PRICE', '99.00');
  if (!MONEY_PATTERN.test(price)) {
    throw new ConfigError('SEED_PRODUCT_PRICE', `must be a decimal string with two places like "99.00", got ${shown(price)}`);
  }
  const secret = env.WEBHOOK_SECRET;
  if ((secret === undefined || secret === '') && nodeEnv === 'production') {
    throw new ConfigError('WEBHOOK_SECRET', 'must be set when NODE_ENV=production');
  }
  const redisUrl = env.REDIS_URL === '' ? undefined : env.REDIS_URL;
  if (redisUrl !== undefined && !/^rediss?:\/\/\S+$/.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', `must be a redis:// or rediss:// URL, got ${shown(redisUrl)}`);
  }
  const adminToken = env.ADMIN_TOKEN === '' ? undefined : env.ADMIN_TOKEN;
  // The token travels in `Authorization: Bearer <token>`: HTTP trims a header's outer spaces and
  // Node reads its bytes as Latin-1, so a token with either could never be presented and every
  // admin request would be 401. (Not shown in the error: it is a secret.)
  if (adminToken !== undefined && !ADMIN_TOKEN_PATTERN.test(adminToken)) {
    throw new ConfigError('ADMIN_TOKEN', 'must be printable ASCII (0x20-0x7E) without a space at either end, as an Authorization header carries it');
  }
  const dbName = strVar(env, 'DB_NAME', 'flash_sale');
  if (!/^[A-Za-z0-9_]{1,64}$/.test(dbName)) {
    throw new ConfigError('DB_NAME', `must be 1 to 64 characters of A-Z a-z 0-9 _, got ${shown(dbName)}`);
  }
  const lockWaitTimeoutSeconds = intVar(env, 'DB_LOCK_WAIT_TIMEOUT_SECONDS', 5, 1, 3600);
  const queryTimeoutMs = intVar(env, 'DB_QUERY_TIMEOUT_MS', lockWaitTimeoutSeconds * 1000 + QUERY_TIMEOUT_MARGIN_DEFAULT_MS, 1000, 7_200_000);
  // A statement waiting for a row lock must end with the lock-wait error (retried by the
  // transaction runner), not be cut short by the query timeout.
  if (queryTimeoutMs < lockWaitTimeoutSeconds * 1000 + QUERY_TIMEOUT_MARGIN_MIN_MS) {
    throw new ConfigError(
      'DB_QUERY_TIMEOUT_MS',
      `must be at least DB_LOCK_WAIT_TIMEOUT_SECONDS × 1000 + ${QUERY_TIMEOUT_MARGIN_MIN_MS} (${lockWaitTimeoutSeconds * 1000 + QUERY_TIMEOUT_MARGIN_MIN_MS}), got ${shown(env.DB_QUERY_TIMEOUT_MS ?? '')}`,
    );
  }
  const buyerAuth = oneOf(env, 'BUYER_AUTH', ['off', 'jwt'] as const, 'off') as 'off' | 'jwt';
  refusePrivateBuyerKey(env);
  return {
    nodeEnv,
    port: intVar(env, 'PORT', 3000, 1, 65535),
    db: {
      type: oneOf(env, 'DB_TYPE', ['mysql', 'mariadb'] as const, undefined),
      host: strVar(env, 'DB_HOST', '127.0.0.1'),
      port: intVar(env, 'DB_PORT', 3306, 1, 65535),
      user: strVar(env, 'DB_USER', 'root'),
      password: env.DB_PASSWORD ?? '',
      name: dbName,
      poolSize: intVar(env, 'DB_POOL_SIZE', 20, 2, 1000),
      lockWaitTimeoutSeconds,
      connectTimeoutMs: intVar(env, 'DB_CONNECT_TIMEOUT_MS', 3000, 100, 60000),
      queryTimeoutMs,
    },
    redisUrl,
    holdTtlSeconds: intVar(env, 'HOLD_TTL_SECONDS', 120, 1, 86400),
    orderPaymentTtlSeconds: intVar(env, 'ORDER_PAYMENT_TTL_SECONDS', 900, 1, 604800),
    holdSweepIntervalSeconds: intVar(env, 'HOLD_SWEEP_INTERVAL_SECONDS', 5, 1, 3600),
    holdRetentionDays: intVar(env, 'HOLD_RETENTION_DAYS', 7, 1, 3650),
    availabilityCacheTtlMs: intVar(env, 'AVAILABILITY_CACHE_TTL_MS', 1000, 0, 60000),
    maxHoldQty: intVar(env, 'MAX_HOLD_QTY', 10, 1, MAX_HOLD_QTY_LIMIT),
    holdQueueMax: intVar(env, 'HOLD_QUEUE_MAX', 5000, 1, 100000),
    holdQueueTimeoutMs: intVar(env, 'HOLD_QUEUE_TIMEOUT_MS', 2000, 10, 60000),
    stockLockWaitLogMs: intVar(env, 'STOCK_LOCK_WAIT_LOG_MS', 100, 0, 60000),
    webhookSecret: secret === undefined || secret === '' ? DEV_WEBHOOK_SECRET : secret,
    adminToken,
    seedProductStock: intVar(env, 'SEED_PRODUCT_STOCK', 100, 0, 1_000_000_000),
    seedProductPrice: price,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info') as string,
    streamMaxClients: intVar(env, 'STREAM_MAX_CLIENTS', 10000, 1, 1_000_000),
    buyerAuth,
    buyerJwt: buyerAuth === 'jwt' ? buyerJwt(env) : undefined,
    trustProxy: boolVar(env, 'TRUST_PROXY'),
    rateLimitHoldsPerMinute: intVar(env, 'RATE_LIMIT_HOLDS_PER_MINUTE', 0, 0, 1_000_000),
    rateLimitReadsPerMinute: intVar(env, 'RATE_LIMIT_READS_PER_MINUTE', 0, 0, 1_000_000),
  };
}

/** Nest injection token of the AppConfig object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
