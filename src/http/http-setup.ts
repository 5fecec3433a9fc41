import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { maxHeaderSize, type IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BODY_LIMIT_BYTES, MAX_BODY_DEPTH } from '../common/error-response';
import { sendError } from '../common/all-exceptions.filter';
import { UnsupportedMediaTypeError, ValidationFailedError } from '../common/errors';
import { acceptedRequestId, runInRequestContext } from '../common/request-context';

const logger = new Logger('http');

/**
 * The Fastify adapter with the contract's body limit and request ids. With `trustProxy`
 * (TRUST_PROXY=true) the client address (`req.ip`, the rate limits' key) is taken from
 * X-Forwarded-For.
 */
export function createHttpAdapter(trustProxy = false): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => acceptedRequestId(req.headers['x-request-id']) ?? randomUUID(),
    // While stopping, Fastify would answer requests on open connections with its own 503 body
    // (not the contract's, no Retry-After). They are served normally instead: the pool stays open
    // until the listener has drained, and each such answer closes its connection.
    return503OnClosing: false,
    // A path parameter longer than find-my-way's maxParamLength (100 by default) makes the router
    // give up before any route matches, and Fastify then calls frameworkErrors: a 101-digit id was
    // answered as a malformed URL, ahead of 415 and the admin checks, instead of 400 `id` in the
    // contract's order. The request line counts towards Node's header limit (maxHeaderSize, 16 KiB
    // unless --max-http-header-size says otherwise; 431 beyond it), so no parameter a request can
    // carry is longer: every id reaches its route and is refused there like any other bad id.
    routerOptions: { maxParamLength: maxHeaderSize },
    // A URL Fastify cannot decode (malformed percent-encoding) gets the contract's 400 too, with
    // its request id, instead of Fastify's own body. (The router's other refusal, a parameter
    // over maxParamLength, cannot happen: see routerOptions.)
    frameworkErrors: (_err: Error, req: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-request-id', req.id);
      sendError(reply, req, new ValidationFailedError([{ field: 'path', problem: 'is not a valid URL (malformed percent-encoding)' }]), logger);
    },
  });
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** A body that may hold a forbidden key: one of the names, or an escape that could spell one. */
const MAY_HOLD_FORBIDDEN_KEY = /__proto__|constructor|prototype|\\/;

/**
 * Whether `value` nests arrays or objects more than `levels` deep (a scalar is 0 deep, `{}` 1).
 * Its recursion stops at `levels`, so it is bounded whatever the value.
 */
function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (nestedDeeperThan(v, levels - 1)) return true;
  return false;
}

/**
 * Parses a JSON body without failing the request: a body that is not JSON (or not UTF-8) is only marked, so
 * that the 401 checks (webhook signature, admin token) still answer first, as the contract orders.
 * A body nested deeper than MAX_BODY_DEPTH is marked too, and goes no further: what would read it
 * next (the reviver below, the Idempotency-Key's hash, the validation pipe) recurses per level, and
 * a 16 KiB body can nest 8000 levels, past the stack (a 500). Only a text longer than two
 * characters a level can nest that deep, so a usual hold's body is not walked. Forbidden keys are
 * dropped and recorded; the parse that looks at every key (a reviver, several times slower) runs
 * only for a body whose text could contain one.
 */
function parseJsonBody(req: FastifyRequest, body: Buffer): unknown {
  req.rawBody = body;
  // JSON text is UTF-8 (RFC 8259 §8.1): a byte sequence that is not would be decoded with U+FFFD
  // in place of each bad byte, and stored so, a value the client never sent.
  if (!isUtf8(body)) {
    req.invalidJson = true;
    return undefined;
  }
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    req.invalidJson = true;
    return undefined;
  }
  if (text.length > 2 * MAX_BODY_DEPTH && nestedDeeperThan(value, MAX_BODY_DEPTH)) {
    req.bodyTooDeep = true;
    return undefined;
  }
  if (!MAY_HOLD_FORBIDDEN_KEY.test(text)) return value;
  const forbidden: string[] = [];
  value = JSON.parse(text, (key, v: unknown) => {
    if (FORBIDDEN_KEYS.has(key)) {
      forbidden.push(key);
      return undefined;
    }
    return v;
  });
  if (forbidden.length > 0) req.forbiddenKeys = forbidden;
  return value;
}

/**
 * The names of a route path's parameters (`/api/products/:id/movements`: `id`). A wildcard (`*`)
 * is not one of them: its empty tail is the prefix itself (`/docs/*` serving `/docs/`).
 */
function namedParams(url: string): string[] {
  return [...url.matchAll(/:(\w+)/g)].map((m) => m[1]);
}

/**
 * Body parsing, request ids and the not-found answer of empty path parameters, shared by main.ts
 * and the tests so that both serve exactly the same HTTP behaviour. Errors Fastify raises while
 * reading a body reach Nest's error handler and from there the one AllExceptionsFilter.
 */
export function configureHttp(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();

  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (req, body, done) => {
    done(null, parseJsonBody(req, body as Buffer));
  });
  // Any other media type is read up to the limit first, so an oversized body is 413 before 415.
  // A request that matched no route is then handed to the not-found handler, as Fastify does when
  // no parser takes an unmatched request's body: 404 whatever the media type, on a connection kept
  // open (a refused body closes it). A Content-Type Fastify cannot parse at all never reaches a
  // parser; toErrorResponse turns that 415 into the 404 of an unmatched request.
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (req, _body, done) => {
    done(req.is404 ? null : new UnsupportedMediaTypeError(), undefined);
  });

  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  // While the service stops (its listener is closed), every answer closes its connection: Fastify
  // marks only the requests that arrive after the stop began, and an answer to one already in
  // flight would say keep-alive on a connection the stop then closes as soon as it is idle.
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    if (!fastify.server.listening) reply.header('connection', 'close');
    done(null, payload);
  });
  // find-my-way, Fastify's router, matches a parametric route with an empty parameter in some
  // trees (find-my-way#422): GET /api/products/ reached GET /api/products/:id and was refused 400
  // `id`, while HEAD /api/products/ was 404. A path whose parameter is empty names nothing, so it
  // is answered as a path no route matches: the not-found handler (404 not_found, counted and
  // logged as `unmatched`), before the route's guards and rate limit. Only routes with parameters
  // get the hook, so the others pay nothing for it.
  fastify.addHook('onRoute', (route) => {
    const params = namedParams(route.url);
    if (params.length === 0) return;
    const unmatchedWhenEmpty = (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const values = req.params as Record<string, string | undefined>;
      for (const name of params) {
        if (values[name] === '') {
          reply.callNotFound();
          return;
        }
      }
      done();
    };
    route.onRequest = [...[route.onRequest ?? []].flat(), unmatchedWhenEmpty];
  });
  // The handler (guards, interceptors, controller, services) of a route that changes something
  // runs inside the request's context, so every domain line it writes carries the request id (the
  // body has been read by then). Reads write no domain lines (their errors name the request id
  // themselves), so the hottest route, a cached product read, does not pay for the context.
  fastify.addHook('onRoute', (route) => {
    if ([route.method].flat().every((m) => m === 'GET' || m === 'HEAD')) return;
    const enterContext = (req: FastifyRequest, _reply: FastifyReply, done: () => void) => runInRequestContext(req.id, done);
    route.preHandler = [...[route.preHandler ?? []].flat(), enterContext];
  });
}
