import { HttpException } from '@nestjs/common';
import {
  DomainError,
  FrameworkClientError,
  InternalError,
  InvalidJsonError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnsupportedMediaTypeError,
} from './errors';
import { isConnectionError, retryReason } from './db-errors';

export const BODY_LIMIT_BYTES = 16 * 1024;
/** The deepest a JSON body may nest arrays and objects (the body object itself is level 1). */
export const MAX_BODY_DEPTH = 32;

export interface ErrorResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  /** True when the cause is a bug or an unknown failure: log it with its stack. */
  unexpected: boolean;
}

/**
 * Codes Fastify itself raises while reading a body, before any route runs; and any other error a
 * framework part raises with a client status (the file servers' @fastify/send: 412 for a failed
 * If-Match on a page, 403 for a `/docs/` path that climbs out of its folder, 400 for one with a NUL
 * byte), which is `bad_request` with that status, not a 500.
 */
function fromFastifyError(err: { code?: string; statusCode?: unknown }): DomainError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(BODY_LIMIT_BYTES);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError();
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InvalidJsonError();
    default:
      return typeof err.statusCode === 'number' && Number.isInteger(err.statusCode) && err.statusCode >= 400 && err.statusCode < 500
        ? new FrameworkClientError(err.statusCode)
        : undefined;
  }
}

function fromHttpException(err: HttpException): DomainError {
  const status = err.getStatus();
  switch (status) {
    case 400:
      // Fastify's own 400s come from reading the body (a Content-Length that does not match).
      return new InvalidJsonError();
    case 404:
      return new NotFoundError();
    case 413:
      return new PayloadTooLargeError(BODY_LIMIT_BYTES);
    case 415:
      return new UnsupportedMediaTypeError();
    default:
      if (status >= 400 && status < 500) {
        return new FrameworkClientError(status);
      }
      return new InternalError();
  }
}

/** What of the request, beside the error, decides its answer: whether it matched a route, and its declared body length. */
export interface RequestFacts {
  /** The request matched no route (Fastify's `request.is404`). */
  is404?: boolean;
  headers: { 'content-length'?: string };
}

/**
 * Maps anything thrown while serving a request to the contract's error body. The only place
 * where status codes and `error` codes of failures are decided; `request` when the failure is
 * the request's own answer (not, say, a refusal recorded for an Idempotency-Key).
 */
export function toErrorResponse(err: unknown, request?: RequestFacts): ErrorResponse {
  let domain: DomainError | undefined;
  let unexpected = false;
  if (err instanceof DomainError) domain = err;
  else if (err instanceof HttpException) domain = fromHttpException(err);
  else if (isConnectionError(err) || retryReason(err)) domain = new ServiceUnavailableError();
  else if (err && typeof err === 'object') domain = fromFastifyError(err);
  if (domain instanceof UnsupportedMediaTypeError && request) {
    // 413 comes first whatever the media type (docs/API.md). A body of any type Fastify can name is
    // read up to the limit before its 415, but one whose Content-Type does not parse is refused
    // unread: its declared length then says whether it is over the limit.
    if (Number(request.headers['content-length']) > BODY_LIMIT_BYTES) domain = new PayloadTooLargeError(BODY_LIMIT_BYTES);
    // A request no route serves is 404 whatever the media type of its body: 415 is a route's
    // refusal of a body it cannot take, and no route is there.
    else if (request.is404) domain = new NotFoundError();
  }
  if (!domain) {
    domain = new InternalError();
    unexpected = true;
  }
  return {
    status: domain.status,
    body: { statusCode: domain.status, error: domain.code, message: domain.message, ...domain.extra },
    headers: domain.headers,
    unexpected,
  };
}
