import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { JwtPayload, verify, VerifyOptions } from 'jsonwebtoken';
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
 * characters. Returns the buyer, or undefined for any token that fails.
 */
export class BuyerTokenVerifier {
  /**
   * Always a KeyObject: given a string, jsonwebtoken first tries it as a PEM public key
   * (`createPublicKey`, which throws for a secret) on every call, before making the secret key
   * object: about a third of the service's CPU for token checks in the fairness bench.
   */
  private readonly key: KeyObject;
  private readonly options: VerifyOptions & { complete: false };

  constructor(config: BuyerJwtConfig) {
    this.key = config.algorithm === 'HS256' ? createSecretKey(Buffer.from(config.secret, 'utf8')) : config.publicKey;
    this.options = {
      algorithms: [config.algorithm],
      clockTolerance: BUYER_TOKEN_CLOCK_SKEW_SECONDS,
      complete: false,
      ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
      ...(config.audience !== undefined ? { audience: config.audience } : {}),
    };
  }

  /** The buyer of `Authorization: Bearer <JWT>`, or undefined. Never throws. */
  buyerOf(header: string | string[] | undefined): string | undefined {
    if (typeof header !== 'string' || header.length > MAX_BUYER_TOKEN_LENGTH || !header.startsWith('Bearer ')) return undefined;
    const token = header.slice(7);
    if (!JWT_SHAPE.test(token)) return undefined;
    let payload: string | JwtPayload;
    try {
      payload = verify(token, this.key, this.options);
    } catch {
      return undefined;
    }
    if (typeof payload !== 'object' || typeof payload.exp !== 'number') return undefined;
    return isBuyerId(payload.sub) ? payload.sub : undefined;
  }
}

/** The request's buyer (set by RouteAuthGuard on buyer routes): a token's `sub`, or null. */
export const BuyerParam = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | null => ctx.switchToHttp().getRequest<FastifyRequest>().buyer ?? null,
);
