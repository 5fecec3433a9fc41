import { generateKeyPairSync } from 'node:crypto';
import { sign, SignOptions } from 'jsonwebtoken';

/** A shop's identity provider, for the tests: HS256 tokens under SECRET, RS256 ones under the key pair. */
export const BUYER_SECRET = 'test-buyer-secret-0123456789abcdef';
export const RSA = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

/** `Authorization: Bearer <HS256 token>` for `sub`, valid for an hour unless the options say otherwise. */
export function buyerAuth(sub: string, options: SignOptions = {}, secret: string = BUYER_SECRET): string {
  return `Bearer ${sign({ sub }, secret, { algorithm: 'HS256', expiresIn: 3600, ...options })}`;
}

export function rsaBuyerAuth(sub: string, options: SignOptions = {}): string {
  return `Bearer ${sign({ sub }, RSA.privateKey, { algorithm: 'RS256', expiresIn: 3600, ...options })}`;
}
