/**
 * Domain errors. Each carries the contract's HTTP status and stable `error` code
 * (docs/API.md); the one exception filter turns them into the JSON error body.
 */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export interface FieldProblem {
  field: string;
  problem: string;
}

export class ValidationFailedError extends DomainError {
  constructor(readonly details: FieldProblem[]) {
    super(400, 'validation_failed', 'The request is not valid.', { details });
  }
}

export class InvalidJsonError extends DomainError {
  constructor() {
    super(400, 'invalid_json', 'The request body is not valid JSON.');
  }
}

export class InvalidSignatureError extends DomainError {
  constructor() {
    super(401, 'invalid_signature', 'The webhook signature is missing or wrong.');
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'A valid admin bearer token is required.') {
    // RFC 9110 §11.6.1: a 401 names the scheme the route takes.
    super(401, 'unauthorized', message, {}, { 'WWW-Authenticate': 'Bearer' });
  }
}

/** A buyer route without a valid buyer token (BUYER_AUTH=jwt). */
export class BuyerUnauthorizedError extends UnauthorizedError {
  constructor() {
    super('A valid buyer token is required: Authorization: Bearer <JWT>.');
  }
}

export class AdminDisabledError extends DomainError {
  constructor() {
    super(403, 'admin_disabled', 'Admin routes are disabled: ADMIN_TOKEN is not configured.');
  }
}

export class NotFoundError extends DomainError {
  constructor(code = 'not_found', message = 'No such route; the routes are listed in docs/API.md.') {
    super(404, code, message);
  }
}

export class ProductNotFoundError extends NotFoundError {
  constructor() {
    super('product_not_found', 'Product not found.');
  }
}

export class HoldNotFoundError extends NotFoundError {
  constructor() {
    super('hold_not_found', 'Hold not found.');
  }
}

export class OrderNotFoundError extends NotFoundError {
  constructor() {
    super('order_not_found', 'Order not found.');
  }
}

export class InsufficientStockError extends DomainError {
  constructor(readonly available: number) {
    super(409, 'insufficient_stock', `Only ${available} units are available.`, { available });
  }
}

/** The hold would take the buyer past the product's `max_per_buyer`. */
export class BuyerLimitReachedError extends DomainError {
  constructor(
    readonly limit: number,
    readonly taken: number,
  ) {
    super(409, 'buyer_limit_reached', `At most ${limit} units per buyer; you have ${taken}.`, { limit, taken });
  }
}

export class HoldAlreadyUsedError extends DomainError {
  constructor(readonly orderId: number) {
    super(409, 'hold_already_used', 'An order was already made from this hold.', { order_id: orderId });
  }
}

export class IdempotencyKeyInFlightError extends DomainError {
  constructor() {
    super(409, 'idempotency_key_in_flight', 'A request with this Idempotency-Key is still being processed.');
  }
}

export class HoldExpiredError extends DomainError {
  constructor() {
    super(410, 'hold_expired', 'The hold has expired.');
  }
}

export class PayloadTooLargeError extends DomainError {
  constructor(limit: number) {
    super(413, 'payload_too_large', `The request body is larger than ${limit} bytes.`);
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor() {
    super(415, 'unsupported_media_type', 'The request body must be sent as application/json.');
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super(422, 'idempotency_key_reused', 'This idempotency key was already used with a different request.');
  }
}

/** Over RATE_LIMIT_HOLDS_PER_MINUTE or RATE_LIMIT_READS_PER_MINUTE. */
export class RateLimitedError extends DomainError {
  constructor(retryAfterSeconds = 60) {
    super(429, 'rate_limited', 'Too many requests; try again later.', {}, { 'Retry-After': String(Math.max(1, retryAfterSeconds)) });
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(message = 'The database is unavailable; try again shortly.', retryAfterSeconds = 1) {
    super(503, 'unavailable', message, {}, { 'Retry-After': String(retryAfterSeconds) });
  }
}

/** Any other client error the HTTP framework raises (not expected: no route answers it by design). */
export class FrameworkClientError extends DomainError {
  constructor(status = 400) {
    super(status, 'bad_request', 'The request cannot be processed.');
  }
}

export class InternalError extends DomainError {
  constructor() {
    super(500, 'internal_error', 'An unexpected error occurred.');
  }
}
