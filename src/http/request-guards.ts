import { CanActivate, ExecutionContext, INestApplicationContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../common/all-exceptions.filter';
import { MAX_BODY_DEPTH } from '../common/error-response';
import { APP_CONFIG, AppConfig } from '../config/config';
import {
  AdminDisabledError,
  BuyerUnauthorizedError,
  InvalidJsonError,
  InvalidSignatureError,
  UnauthorizedError,
  ValidationFailedError,
} from '../common/errors';
import { BuyerTokenVerifier } from './buyer-token';
import { ROUTE_AUTH, RouteAuth } from './route-auth';
import { isValidSignature } from './signature';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** First global guard: the route's own authentication (admin token, webhook signature or buyer token). */
@Injectable()
export class RouteAuthGuard implements CanActivate {
  private readonly buyerTokens: BuyerTokenVerifier | undefined;

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.buyerTokens = config.buyerJwt ? new BuyerTokenVerifier(config.buyerJwt) : undefined;
  }

  /**
   * A buyer route's buyer: a verified token's `sub` with BUYER_AUTH=jwt (else 401
   * BuyerUnauthorizedError), null with BUYER_AUTH=off.
   */
  private buyerOf(req: FastifyRequest): string | null {
    if (!this.buyerTokens) return null;
    const buyer = this.buyerTokens.buyerOf(soleAuthorization(req));
    if (buyer === undefined) throw new BuyerUnauthorizedError();
    return buyer;
  }

  canActivate(context: ExecutionContext): boolean {
    const auth = this.reflector.getAllAndOverride<RouteAuth | undefined>(ROUTE_AUTH, [context.getHandler(), context.getClass()]);
    this.authenticate(auth, context.switchToHttp().getRequest<FastifyRequest>());
    return true;
  }

  /**
   * A request's checks for the route's declared authentication `auth` (none when undefined):
   * throws the 401 or 403, and on a buyer route sets `req.buyer`. Also called by routes answered
   * outside Nest's router (behindRouteAuth), with the declaration of the handler they stand in for.
   */
  authenticate(auth: RouteAuth | undefined, req: FastifyRequest): void {
    if (!auth) return;
    if (auth === 'buyer') {
      req.buyer = this.buyerOf(req);
      return;
    }
    if (auth === 'webhook_signature') {
      if (!isValidSignature(req.headers['x-signature'], req.rawBody, this.config.webhookSecret)) throw new InvalidSignatureError();
      return;
    }
    if (auth === 'operator' && !this.buyerTokens) return;
    if (this.config.adminToken === undefined) throw new AdminDisabledError();
    const header = soleAuthorization(req);
    const token = header?.startsWith('Bearer ') ? header.slice(7) : '';
    if (!sameSecret(token, this.config.adminToken)) throw new UnauthorizedError();
  }
}

/**
 * The request's `Authorization` header, or undefined when it has none or more than one: Node keeps
 * only the first of two, and a proxy in front may have read the other, so two credentials are
 * none (401) rather than a guess at whose request it is.
 */
function soleAuthorization(req: FastifyRequest): string | undefined {
  const raw = req.raw.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization' && ++seen > 1) return undefined;
  return req.headers.authorization;
}

const logger = new Logger('http');

/**
 * A directly served route's handler (serveDirectly) behind the route's authentication:
 * RouteAuthGuard.authenticate first, by `auth`, the declaration of the Nest handler the route
 * stands in for (routeAuthOf), and a refusal (401, 403) sent through the exception filter's
 * `sendError`; a route that declares none gets `handler` itself.
 */
export function behindRouteAuth<R extends FastifyRequest>(
  app: INestApplicationContext,
  auth: RouteAuth | undefined,
  handler: (req: R, reply: FastifyReply) => void,
): (req: R, reply: FastifyReply) => void {
  if (!auth) return handler;
  const guard = app.get(RouteAuthGuard);
  return (req, reply) => {
    try {
      guard.authenticate(auth, req);
    } catch (err) {
      sendError(reply, req, err, logger);
      return;
    }
    handler(req, reply);
  };
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Second global guard: a body route gets a JSON object, or 400 before any validation runs. */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    if (BODY_METHODS.has(req.method)) checkJsonBody(req);
    return true;
  }
}

/** JsonBodyGuard's checks of a body route's request (also run by the routes served directly): throws the 400. */
export function checkJsonBody(req: FastifyRequest): void {
  if (req.invalidJson) throw new InvalidJsonError();
  if (req.forbiddenKeys) {
    throw new ValidationFailedError(req.forbiddenKeys.map((field) => ({ field, problem: 'is not allowed' })));
  }
  if (req.bodyTooDeep) {
    throw new ValidationFailedError([{ field: 'body', problem: `must not nest arrays or objects more than ${MAX_BODY_DEPTH} levels deep` }]);
  }
  const body: unknown = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationFailedError([{ field: 'body', problem: 'must be a JSON object' }]);
  }
}
