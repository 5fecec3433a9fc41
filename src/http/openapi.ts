import { applyDecorators } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiParam, ApiProperty, ApiPropertyOptional, ApiResponse, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { HeaderObject, OpenAPIObject, PathItemObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { BODY_LIMIT_BYTES } from '../common/error-response';
import { REQUEST_ID } from '../common/request-context';
import {
  AdminDisabledError,
  BuyerLimitReachedError,
  DomainError,
  HoldAlreadyUsedError,
  HoldExpiredError,
  HoldNotFoundError,
  IdempotencyKeyInFlightError,
  IdempotencyKeyReusedError,
  InsufficientStockError,
  FrameworkClientError,
  InternalError,
  InvalidJsonError,
  InvalidSignatureError,
  NotFoundError,
  OrderNotFoundError,
  PayloadTooLargeError,
  ProductNotFoundError,
  RateLimitedError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationFailedError,
} from '../common/errors';
import { MONEY_PATTERN } from '../common/money';
import { MAX_ID, MAX_PER_BUYER_LIMIT } from './validation';

// Schema fragments shared by the DTOs, so every id, time and amount is documented as precisely as
// the validation (or the column) behind it, and a generated client gets the same types everywhere.
export const ID_SCHEMA = { type: 'integer', minimum: 1, maximum: MAX_ID } as const;
export const TIME_SCHEMA = { type: 'string', format: 'date-time' } as const;
/** A buyer: a buyer token's `sub`. */
export const BUYER_SCHEMA = { type: 'string', minLength: 1, maxLength: 255 } as const;
/** A price as the API takes and answers it: DECIMAL(12,2). */
export const MONEY_SCHEMA = { type: 'string', pattern: MONEY_PATTERN.source } as const;

/** Names of the security schemes in the document (docs/API.md, Headers). */
export const ADMIN_SECURITY = 'admin';
export const WEBHOOK_SECURITY = 'webhook_signature';
export const BUYER_SECURITY = 'buyer';

/** The request header of the routes that replay a stored answer (docs/API.md, Idempotent retries). */
export const IDEMPOTENCY_KEY = 'Idempotency-Key';

/** Every `error` code of the contract's table, from the classes that carry them. */
export const ERROR_CODES: string[] = [
  new ValidationFailedError([]),
  new InvalidJsonError(),
  new InvalidSignatureError(),
  new UnauthorizedError(),
  new AdminDisabledError(),
  new BuyerLimitReachedError(1, 1),
  new RateLimitedError(),
  new ProductNotFoundError(),
  new HoldNotFoundError(),
  new OrderNotFoundError(),
  new NotFoundError(),
  new InsufficientStockError(0),
  new HoldAlreadyUsedError(1),
  new IdempotencyKeyInFlightError(),
  new HoldExpiredError(),
  new PayloadTooLargeError(BODY_LIMIT_BYTES),
  new UnsupportedMediaTypeError(),
  new IdempotencyKeyReusedError(),
  new ServiceUnavailableError(),
  new FrameworkClientError(),
  new InternalError(),
].map((e) => e.code);

export class FieldProblemBody {
  @ApiProperty({ example: 'qty', description: 'A body field, `body`, `id`, a query parameter, `Idempotency-Key` or a forbidden key.' })
  field: string;

  @ApiProperty({ example: 'must not be greater than 10', description: 'For people.' })
  problem: string;
}

/** The contract's error body, as the OpenAPI document shows it: every field any error can carry. */
export class ErrorBody {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 409 })
  statusCode: number;

  @ApiProperty({ enum: ERROR_CODES, example: 'insufficient_stock', description: 'Stable machine code.' })
  error: string;

  @ApiProperty({ example: 'Only 3 units are available.' })
  message: string;

  @ApiPropertyOptional({ type: [FieldProblemBody], description: 'Only with validation_failed.' })
  details?: FieldProblemBody[];

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_ID, description: 'Only with insufficient_stock.' })
  available?: number;

  @ApiPropertyOptional({ ...ID_SCHEMA, description: 'Only with hold_already_used.' })
  order_id?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PER_BUYER_LIMIT,
    description: "Only with buyer_limit_reached: the product's max_per_buyer.",
  })
  limit?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_ID, description: "Only with buyer_limit_reached: the buyer's units that count." })
  taken?: number;

  @ApiPropertyOptional({ enum: ['down'], description: 'Only on GET /health.' })
  db?: 'down';
}

/** The extra fields each error adds to the body (DomainError.extra), as schemas. */
const EXTRA_FIELDS: Record<string, Record<string, SchemaObject>> = {
  validation_failed: {
    details: {
      type: 'array',
      items: { type: 'object', required: ['field', 'problem'], properties: { field: { type: 'string' }, problem: { type: 'string' } } },
    },
  },
  insufficient_stock: { available: { type: 'integer', minimum: 0, maximum: MAX_ID } },
  hold_already_used: { order_id: { ...ID_SCHEMA } },
  buyer_limit_reached: { limit: { type: 'integer', minimum: 1, maximum: MAX_PER_BUYER_LIMIT }, taken: { type: 'integer', minimum: 0, maximum: MAX_ID } },
};

/**
 * The error body one response can carry: its status, the `error` codes listed for it, and the
 * extra fields of those codes, required when every code of the status has them. Inline rather
 * than a $ref to ErrorBody, so a generated client narrows `error` per status.
 */
export function errorSchema(status: number, codes: string[], more: Record<string, SchemaObject> = {}): SchemaObject {
  const extras = codes.map((c) => EXTRA_FIELDS[c] ?? {});
  const extraFields: Record<string, SchemaObject> = Object.assign({}, ...extras) as Record<string, SchemaObject>;
  const required = ['statusCode', 'error', 'message', ...Object.keys(more)];
  for (const field of Object.keys(extraFields)) if (extras.every((e) => field in e)) required.push(field);
  return {
    type: 'object',
    required,
    properties: {
      statusCode: { type: 'integer', enum: [status] },
      error: { type: 'string', enum: codes },
      message: { type: 'string' },
      ...extraFields,
      ...more,
    },
  };
}

/** What any route with a JSON body can answer before its own rules run (the contract's order). */
export const BODY_ERRORS: DomainError[] = [
  new PayloadTooLargeError(BODY_LIMIT_BYTES),
  new UnsupportedMediaTypeError(),
  new InvalidJsonError(),
  new ValidationFailedError([]),
];

/**
 * Documents a route's error answers from the very error classes it throws, so the document names
 * the same status and `error` code the exception filter sends. Errors sharing a status are listed
 * together.
 */
export function ApiErrors(...errors: DomainError[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, DomainError[]>();
  for (const e of errors) byStatus.set(e.status, [...(byStatus.get(e.status) ?? []), e]);
  return applyDecorators(
    ...[...byStatus].map(([status, list]) =>
      ApiResponse({
        status,
        description: list.map((e) => `\`${e.code}\`: ${e.message}`).join(' | '),
        schema: errorSchema(
          status,
          list.map((e) => e.code),
        ),
        example: { statusCode: status, error: list[0].code, message: list[0].message, ...list[0].extra },
      }),
    ),
  );
}

/** The `:id` path parameter as ParseIdPipe accepts it. */
export function ApiIdParam(): MethodDecorator {
  return ApiParam({ name: 'id', schema: { ...ID_SCHEMA }, description: 'Plain decimal digits without a leading zero.' });
}

/**
 * The validation pipe refuses unknown body fields (forbidNonWhitelisted): every request body's
 * schema says so with `additionalProperties: false`, so a generated client cannot send one.
 */
function closeRequestBodies(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.post, item.patch, item.put]) {
      const body = operation?.requestBody as { content?: Record<string, { schema?: { $ref?: string } }> } | undefined;
      const ref = body?.content?.['application/json']?.schema?.$ref;
      const schema = ref ? (schemas[ref.split('/').pop() ?? ''] as SchemaObject | undefined) : undefined;
      if (schema) schema.additionalProperties = false;
    }
  }
}

/** Request bodies (by class name) that need at least this many of their optional fields. */
const MIN_PROPERTIES = new Map<string, number>();

/**
 * A request body whose fields are all optional but that needs at least `count` of them (PATCH
 * /api/products/:id: `restock`, `max_per_buyer` or both). The document says so with
 * `minProperties`, so `{}`, which the service refuses 400, does not validate against it either.
 */
export function ApiMinProperties(count: number): ClassDecorator {
  return (target) => {
    MIN_PROPERTIES.set(target.name, count);
  };
}

function applyMinProperties(document: OpenAPIObject): void {
  for (const [name, count] of MIN_PROPERTIES) {
    const schema = document.components?.schemas?.[name] as SchemaObject | undefined;
    if (schema) schema.minProperties = count;
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const satisfies (keyof PathItemObject)[];

/**
 * The statuses an `Idempotency-Key` can store, so the ones a replay can answer (docs/API.md,
 * Idempotent retries, "What is stored"): the 201, a refusal by the route's rules (404, 409, 410)
 * and a 400 of its fields. Never 401, 413, 415, 422, 429 or a 5xx.
 */
const REPLAYABLE_STATUSES = ['201', '400', '404', '409', '410'];

/** The contract's response headers (docs/API.md, Headers) that one response carries. */
function contractHeaders(status: string, idempotent: boolean, bearer: boolean): Record<string, HeaderObject> {
  const headers: Record<string, HeaderObject> = {
    'X-Request-Id': {
      required: true,
      description: "The client's X-Request-Id when it was 1 to 128 characters of A-Z a-z 0-9 . _ -, otherwise a new UUID (v4).",
      schema: { type: 'string', pattern: REQUEST_ID.source },
    },
  };
  if (status === '429') {
    headers['Retry-After'] = {
      required: true,
      description: "Whole seconds until the rate limit lets this client's next request in.",
      schema: { type: 'integer', minimum: 0 },
    };
  }
  if (status === '401' && bearer) {
    headers['WWW-Authenticate'] = { required: true, description: 'The scheme the route takes.', schema: { type: 'string', enum: ['Bearer'] } };
  }
  if (status === '503') headers['Retry-After'] = { required: true, description: 'Always 1 (seconds).', schema: { type: 'integer', enum: [1] } };
  if (idempotent && REPLAYABLE_STATUSES.includes(status)) {
    headers['Idempotent-Replayed'] = {
      required: false,
      description: `\`true\` when this is the stored answer to an earlier request with the same ${IDEMPOTENCY_KEY} and body, replayed (nothing else happened); absent otherwise.`,
      schema: { type: 'string', enum: ['true'] },
    };
  }
  return headers;
}

/**
 * Declares the contract's response headers, which the decorators leave out, on every response of
 * the document: `X-Request-Id` on all of them, `Retry-After` on every 429 and 503,
 * `WWW-Authenticate` on the 401s of the routes secured by a bearer token, and
 * `Idempotent-Replayed` on the answers that can be replays of the routes that take an
 * `Idempotency-Key` header.
 */
function declareResponseHeaders(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const idempotent = (operation.parameters ?? []).some((p) => 'in' in p && p.in === 'header' && p.name === IDEMPOTENCY_KEY);
      // The admin and buyer schemes are bearer tokens; the webhook's signature is not.
      const bearer = (operation.security ?? []).some((requirement) => ADMIN_SECURITY in requirement || BUYER_SECURITY in requirement);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!response || '$ref' in response) continue;
        response.headers = { ...response.headers, ...contractHeaders(status, idempotent, bearer) };
      }
    }
  }
}

/** GET /docs (Swagger UI) and GET /docs-json (the OpenAPI document), generated from the code. */
export function setUpApiDocs(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Flash-sale checkout')
    .setDescription(
      'Sells a limited stock to a burst of buyers without overselling: holds, orders, payment webhook. The contract, with every status and error code, is docs/API.md in the repository.',
    )
    .setVersion('1')
    // ADMIN_TOKEN is an opaque string, not a JWT (addBearerAuth would say JWT by default).
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'Authorization: Bearer <ADMIN_TOKEN>' }, ADMIN_SECURITY)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'Authorization: Bearer <buyer JWT> (only with BUYER_AUTH=jwt); the buyer is its sub',
      },
      BUYER_SECURITY,
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-Signature', description: 'sha256=<hex HMAC-SHA256 of the raw request body under WEBHOOK_SECRET>' },
      WEBHOOK_SECURITY,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorBody] });
  closeRequestBodies(document);
  applyMinProperties(document);
  declareResponseHeaders(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', raw: ['json'] });
}
