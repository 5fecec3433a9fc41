import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Jwt, verify, VerifyOptions } from 'jsonwebtoken';
import { isBuyerId } from '../common/buyer';
import type { BuyerJwtConfig } from '../config/config';

declare module 'fastify' {
  interface FastifyRequest {
    /** The buyer of a buyer route (a verified token's `sub`); null when BUYER_AUTH=off. */
    buyer?: string | null;
  }
}

/** Most seconds a token's `exp` (and `nbf`) may be off by (clocks of two machines). */
export const BUYER_TOKEN_CLOCK_SKEW_SECONDS = 30;
/** A longer Authorization header is refused before any parsing (a real buyer token is far shorter). */
export const MAX_BUYER_TOKEN_LENGTH = 8192;
/** A JWS compact serialization: three base64url parts. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Verifies buyer tokens with jsonwebtoken: the one algorithm the configured key is for (HS256 for
 * BUYER_JWT_SECRET, RS256 or ES256 for BUYER_JWT_PUBLIC_KEY), so neither `alg: none` nor a token
 * signed with the public key as an HMAC secret passes; `exp` required and enforced with
 * BUYER_TOKEN_CLOCK_SKEW_SECONDS of skew; issuer and audience when configured; `sub` 1 to 255
 * characters; no `crit` header (RFC 7515 §4.1.11: a recipient must refuse a token whose `crit`
 * lists extensions it does not understand, and this one understands none; jsonwebtoken does not
 * look at it). Returns the buyer, or undefined for any token that fails.
 */
export class BuyerTokenVerifier {
  /**
   * Always a KeyObject: given a string, jsonwebtoken first tries it as a PEM public key
   * (`createPublicKey`, which throws for a secret) on every call, before making the secret key
   * object: about a third of the service's CPU for token checks in the fairness bench.
   */
  private readonly key: KeyObject;
  /** `complete`: the header jsonwebtoken has already parsed comes back with the payload, for `crit`. */
  private readonly options: VerifyOptions & { complete: true };

  constructor(config: BuyerJwtConfig) {
    this.key = config.algorithm === 'HS256' ? createSecretKey(Buffer.from(config.secret, 'utf8')) : config.publicKey;
    this.options = {
      algorithms: [config.algorithm],
      clockTolerance: BUYER_TOKEN_CLOCK_SKEW_SECONDS,
      complete: true,
      ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
      ...(config.audience !== undefined ? { audience: config.audience } : {}),
    };
  }

  /** The buyer of `Authorization: Bearer <JWT>`, or undefined. Never throws. */
  buyerOf(header: string | string[] | undefined): string | undefined {
    if (typeof header !== 'string' || header.length > MAX_BUYER_TOKEN_LENGTH || !header.startsWith('Bearer ')) return undefined;
    const token = header.slice(7);
    if (!JWT_SHAPE.test(token)) return undefined;
    let jwt: Jwt;
    try {
      jwt = verify(token, this.key, this.options);
    } catch {
      return undefined;
    }
    // Any `crit` at all, whatever it lists (an empty or malformed one is invalid anyway).
    if (jwt.header.crit !== undefined) return undefined;
    const payload = jwt.payload;
    if (typeof payload !== 'object' || typeof payload.exp !== 'number') return undefined;
    return isBuyerId(payload.sub) ? payload.sub : undefined;
  }
}

/** The request's buyer (set by RouteAuthGuard on buyer routes): a token's `sub`, or null. */
export const BuyerParam = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | null => ctx.switchToHttp().getRequest<FastifyRequest>().buyer ?? null,
);
