import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { sign, SignOptions } from 'jsonwebtoken';
import type { BuyerJwtConfig } from '../config/config';
import { BuyerTokenVerifier, MAX_BUYER_TOKEN_LENGTH } from './buyer-token';

const SECRET = 'unit-buyer-secret-0123456789abcdef';
const EC = generateKeyPairSync('ec', {
  namedCurve: 'prime256v1',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const RSA = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

const hs = (extra: Partial<BuyerJwtConfig> = {}): BuyerTokenVerifier =>
  new BuyerTokenVerifier({ algorithm: 'HS256', secret: SECRET, issuer: undefined, audience: undefined, ...extra } as BuyerJwtConfig);
const bearer = (payload: object, key: string, options: SignOptions): string => `Bearer ${sign(payload, key, options)}`;
/** An HS256 token under SECRET, valid for a minute unless `payload` has an `exp` of its own (or `exp: false`: none). */
const hsToken = (payload: Record<string, unknown>, options: SignOptions = {}): string => {
  const { exp, ...rest } = payload;
  if (exp === false) return bearer(rest, SECRET, { algorithm: 'HS256', ...options });
  return bearer(payload, SECRET, { algorithm: 'HS256', ...(exp === undefined ? { expiresIn: 60 } : {}), ...options });
};
const now = () => Math.floor(Date.now() / 1000);

/**
 * The buyer token check on its own (BUYER_AUTH=jwt): what the contract promises about issuer,
 * audience, clock skew, the three algorithms and the token's shape. The routes' answers (401 with
 * nothing created) are tested end to end in test/buyers.e2e-spec.ts and test/fuzz.e2e-spec.ts.
 */
describe('BuyerTokenVerifier', () => {
  it("gives a valid token's sub as the buyer", () => {
    expect(hs().buyerOf(hsToken({ sub: 'alice' }))).toBe('alice');
  });

  it('enforces exp with at most 30 s of clock skew, and nbf likewise', () => {
    expect(hs().buyerOf(hsToken({ sub: 'alice', exp: now() - 20 }))).toBe('alice');
    expect(hs().buyerOf(hsToken({ sub: 'alice', exp: now() - 31 }))).toBeUndefined();
    expect(hs().buyerOf(hsToken({ sub: 'alice', nbf: now() + 20 }))).toBe('alice');
    expect(hs().buyerOf(hsToken({ sub: 'alice', nbf: now() + 45 }))).toBeUndefined();
  });

  it('requires the configured issuer and audience, and only when configured', () => {
    const strict = hs({ issuer: 'https://id.shop.example', audience: 'checkout' });
    expect(strict.buyerOf(hsToken({ sub: 'alice' }, { issuer: 'https://id.shop.example', audience: 'checkout' }))).toBe('alice');
    expect(strict.buyerOf(hsToken({ sub: 'alice' }, { issuer: 'https://id.shop.example', audience: ['web', 'checkout'] }))).toBe('alice');
    expect(strict.buyerOf(hsToken({ sub: 'alice' }, { issuer: 'https://id.other.example', audience: 'checkout' }))).toBeUndefined();
    expect(strict.buyerOf(hsToken({ sub: 'alice' }, { audience: 'checkout' }))).toBeUndefined();
    expect(strict.buyerOf(hsToken({ sub: 'alice' }, { issuer: 'https://id.shop.example' }))).toBeUndefined();
    expect(hs().buyerOf(hsToken({ sub: 'alice' }, { issuer: 'anyone', audience: 'anything' }))).toBe('alice');
  });

  it('refuses a crit header under a public key too, and only the header: a crit claim in the payload is just a claim', () => {
    const es = new BuyerTokenVerifier({ algorithm: 'ES256', publicKey: createPublicKey(EC.publicKey), issuer: undefined, audience: undefined });
    expect(es.buyerOf(bearer({ sub: 'carol' }, EC.privateKey, { algorithm: 'ES256', expiresIn: 60, header: { alg: 'ES256', crit: ['b64'] } }))).toBeUndefined();
    expect(es.buyerOf(bearer({ sub: 'carol' }, EC.privateKey, { algorithm: 'ES256', expiresIn: 60 }))).toBe('carol');
    expect(hs().buyerOf(hsToken({ sub: 'alice', crit: ['b64'] }))).toBe('alice');
  });

  it('accepts ES256 and RS256 tokens under a public key, and nothing signed with another algorithm', () => {
    const es = new BuyerTokenVerifier({ algorithm: 'ES256', publicKey: createPublicKey(EC.publicKey), issuer: undefined, audience: undefined });
    const rs = new BuyerTokenVerifier({ algorithm: 'RS256', publicKey: createPublicKey(RSA.publicKey), issuer: undefined, audience: undefined });
    expect(es.buyerOf(bearer({ sub: 'carol' }, EC.privateKey, { algorithm: 'ES256', expiresIn: 60 }))).toBe('carol');
    expect(rs.buyerOf(bearer({ sub: 'carol' }, RSA.privateKey, { algorithm: 'RS256', expiresIn: 60 }))).toBe('carol');
    // The public key used as an HMAC secret, and each algorithm under the other's key.
    expect(es.buyerOf(bearer({ sub: 'carol' }, EC.publicKey, { algorithm: 'HS256', expiresIn: 60 }))).toBeUndefined();
    expect(rs.buyerOf(bearer({ sub: 'carol' }, RSA.publicKey, { algorithm: 'HS256', expiresIn: 60 }))).toBeUndefined();
    expect(rs.buyerOf(bearer({ sub: 'carol' }, RSA.privateKey, { algorithm: 'RS384', expiresIn: 60 }))).toBeUndefined();
    expect(hs().buyerOf(bearer({ sub: 'carol' }, RSA.privateKey, { algorithm: 'RS256', expiresIn: 60 }))).toBeUndefined();
  });

  it.each([
    ['no header', undefined],
    ['two headers', [hsToken({ sub: 'alice' }), hsToken({ sub: 'bob' })]],
    ['another scheme', hsToken({ sub: 'alice' }).replace('Bearer', 'Basic')],
    [
      'alg none',
      `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(`{"sub":"alice","exp":${now() + 60}}`).toString('base64url')}.`,
    ],
    ['a wrong signature', `${hsToken({ sub: 'alice' }).slice(0, -4)}AAAA`],
    ['no exp', hsToken({ sub: 'alice', exp: false })],
    ['no sub', hsToken({})],
    ['a numeric sub', hsToken({ sub: 42 })],
    ['an empty sub', hsToken({ sub: '' })],
    ['a sub of 256 characters', hsToken({ sub: 'x'.repeat(256) })],
    ['a payload that is not an object', `Bearer ${sign('"alice"', SECRET, { algorithm: 'HS256' })}`],
    ['a token over the length limit', hsToken({ sub: 'alice', pad: 'x'.repeat(MAX_BUYER_TOKEN_LENGTH) })],
    // RFC 7515 §4.1.11: a recipient must refuse a `crit` it does not understand, and this one understands none.
    ['a crit header naming an extension', hsToken({ sub: 'alice' }, { header: { alg: 'HS256', crit: ['b64'] } })],
    ['a crit header naming a registered claim', hsToken({ sub: 'alice' }, { header: { alg: 'HS256', crit: ['exp'] } })],
    ['an empty crit header', hsToken({ sub: 'alice' }, { header: { alg: 'HS256', crit: [] } })],
  ])('refuses %s', (_name, header) => {
    expect(hs().buyerOf(header)).toBeUndefined();
  });

  it('accepts a sub of 255 characters, counted as characters rather than bytes', () => {
    const sub = 'é'.repeat(255);
    expect(hs().buyerOf(hsToken({ sub }))).toBe(sub);
  });
});
