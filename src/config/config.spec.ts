import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { ConfigError, DEV_WEBHOOK_SECRET, loadConfig } from './config';

const RSA = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const EC = generateKeyPairSync('ec', {
  namedCurve: 'prime256v1',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'sec1', format: 'pem' },
});

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      db: { host: '127.0.0.1', port: 3306, user: 'root', password: '', name: 'flash_sale' },
      redisUrl: undefined,
      holdTtlSeconds: 120,
      holdSweepIntervalSeconds: 5,
      availabilityCacheTtlMs: 1000,
      maxHoldQty: 10,
      webhookSecret: DEV_WEBHOOK_SECRET,
      adminToken: undefined,
      seedProductStock: 100,
      seedProductPrice: '99.00',
      logLevel: 'info',
    });
  });

  it.each([
    ['PORT', '0'],
    ['PORT', '65536'],
    ['PORT', 'abc'],
    ['HOLD_TTL_SECONDS', 'abc'],
    ['HOLD_TTL_SECONDS', '0'],
    ['HOLD_TTL_SECONDS', '86401'],
    ['HOLD_SWEEP_INTERVAL_SECONDS', '3601'],
    ['HOLD_RETENTION_DAYS', '0'],
    ['HOLD_RETENTION_DAYS', '3651'],
    ['HOLD_RETENTION_DAYS', '7.5'],
    ['AVAILABILITY_CACHE_TTL_MS', '-1'],
    ['AVAILABILITY_CACHE_TTL_MS', '60001'],
    ['MAX_HOLD_QTY', '0'],
    ['MAX_HOLD_QTY', '1.5'],
    ['SEED_PRODUCT_STOCK', '1000000001'],
    ['SEED_PRODUCT_PRICE', '99'],
    ['SEED_PRODUCT_PRICE', '-1.00'],
    ['LOG_LEVEL', 'loud'],
    ['DB_PORT', 'x'],
    ['DB_TYPE', 'postgres'],
    ['DB_NAME', 'bad-name;'],
    ['REDIS_URL', 'localhost:6379'],
    ['STREAM_MAX_CLIENTS', '0'],
    ['STREAM_MAX_CLIENTS', 'many'],
  ])('%s=%p stops the start naming the variable', (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(name);
    expect((caught as ConfigError).message).toContain(name);
  });

  it.each([' tok', 'tok ', 'to\tk', 'tök', 'tok\n', '\u00a0tok'])(
    'ADMIN_TOKEN=%p, which no Authorization header can carry, stops the start without showing it',
    (token) => {
      let caught: unknown;
      try {
        loadConfig({ ADMIN_TOKEN: token });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).variable).toBe('ADMIN_TOKEN');
      expect((caught as ConfigError).message).not.toContain(token);
    },
  );

  it('takes any ADMIN_TOKEN of printable ASCII, inner spaces included', () => {
    for (const token of ['t', 'a b', '!~x=/+', 'x'.repeat(500)]) expect(loadConfig({ ADMIN_TOKEN: token }).adminToken).toBe(token);
  });

  it('refuses a REDIS_URL with a space or a line break in it', () => {
    for (const url of ['redis://a\nb', 'redis://a b', 'redis://cache\n']) expect(() => loadConfig({ REDIS_URL: url })).toThrow(ConfigError);
    expect(loadConfig({ REDIS_URL: 'rediss://user:p%40ss@cache:6380/2' }).redisUrl).toBe('rediss://user:p%40ss@cache:6380/2');
  });

  it('DB_QUERY_TIMEOUT_MS defaults to the lock wait plus 5 s, and must exceed the lock wait by at least 1 s', () => {
    expect(loadConfig({}).db).toMatchObject({ lockWaitTimeoutSeconds: 5, queryTimeoutMs: 10000 });
    expect(loadConfig({ DB_LOCK_WAIT_TIMEOUT_SECONDS: '30' }).db.queryTimeoutMs).toBe(35000);
    expect(loadConfig({ DB_LOCK_WAIT_TIMEOUT_SECONDS: '1', DB_QUERY_TIMEOUT_MS: '2000' }).db.queryTimeoutMs).toBe(2000);
    expect(loadConfig({ DB_LOCK_WAIT_TIMEOUT_SECONDS: '3600' }).db.queryTimeoutMs).toBe(3_605_000);
    for (const [lockWait, timeout] of [
      ['5', '5999'],
      ['1', '1999'],
      ['5', '999'],
      ['5', '7200001'],
      ['5', 'soon'],
    ]) {
      expect(() => loadConfig({ DB_LOCK_WAIT_TIMEOUT_SECONDS: lockWait, DB_QUERY_TIMEOUT_MS: timeout })).toThrow(
        expect.objectContaining({ variable: 'DB_QUERY_TIMEOUT_MS', message: expect.stringContaining(timeout) }),
      );
    }
  });

  it('refuses production without WEBHOOK_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/WEBHOOK_SECRET/);
    expect(loadConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: 'x' }).webhookSecret).toBe('x');
  });

  it('accepts the edges of each range', () => {
    const c = loadConfig({ PORT: '65535', HOLD_TTL_SECONDS: '86400', AVAILABILITY_CACHE_TTL_MS: '0', MAX_HOLD_QTY: '1000', SEED_PRODUCT_STOCK: '0' });
    expect(c).toMatchObject({ port: 65535, holdTtlSeconds: 86400, availabilityCacheTtlMs: 0, maxHoldQty: 1000, seedProductStock: 0 });
  });
});

describe('loadConfig: BUYER_JWT_PUBLIC_KEY', () => {
  /** toThrow with an error compares the message exactly: `BUYER_JWT_PUBLIC_KEY must be a public key, not a private key`. */
  const PRIVATE = new ConfigError('BUYER_JWT_PUBLIC_KEY', 'must be a public key, not a private key');

  it('takes an RSA or EC P-256 public key, with line breaks or with \\n escapes', () => {
    expect(loadConfig({ BUYER_AUTH: 'jwt', BUYER_JWT_PUBLIC_KEY: RSA.publicKey }).buyerJwt?.algorithm).toBe('RS256');
    expect(loadConfig({ BUYER_AUTH: 'jwt', BUYER_JWT_PUBLIC_KEY: EC.publicKey.replace(/\n/g, '\\n') }).buyerJwt?.algorithm).toBe('ES256');
  });

  // createPublicKey derives the public key from a private one, so each of these would start the
  // service holding a key that signs tokens for any buyer.
  it.each([
    ['an RSA key, PKCS#8', RSA.privateKey],
    ['an RSA key, PKCS#1', createPrivateKey(RSA.privateKey).export({ type: 'pkcs1', format: 'pem' }).toString()],
    ['an EC key, SEC1', EC.privateKey],
    ['an EC key, PKCS#8, with \\n escapes', createPrivateKey(EC.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n')],
    ['an encrypted PKCS#8 key', createPrivateKey(RSA.privateKey).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString()],
    ['a public key followed by its private key', `${RSA.publicKey}${RSA.privateKey}`],
  ])('refuses a private key: %s', (_name, pem) => {
    expect(() => loadConfig({ BUYER_AUTH: 'jwt', BUYER_JWT_PUBLIC_KEY: pem })).toThrow(PRIVATE);
  });

  it('refuses an RSA key shorter than 2048 bits (RFC 7518 §3.3)', () => {
    const short = generateKeyPairSync('rsa', {
      modulusLength: 1024,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }).publicKey;
    expect(() => loadConfig({ BUYER_AUTH: 'jwt', BUYER_JWT_PUBLIC_KEY: short })).toThrow(
      new ConfigError('BUYER_JWT_PUBLIC_KEY', 'must be an RSA key of at least 2048 bits'),
    );
  });

  it('refuses a private key with BUYER_AUTH=off too: the key must not reach the service at all', () => {
    expect(() => loadConfig({ BUYER_JWT_PUBLIC_KEY: RSA.privateKey })).toThrow(PRIVATE);
    expect(loadConfig({ BUYER_JWT_PUBLIC_KEY: RSA.publicKey }).buyerJwt).toBeUndefined();
  });
});
