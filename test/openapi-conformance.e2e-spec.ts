import SwaggerParser from '@apidevtools/swagger-parser';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAPIResponseValidator from 'openapi-response-validator';
import type { OpenAPIV3 } from 'openapi-types';
import type { Response, Test } from 'supertest';
import { signBody } from '../src/http/signature';
import { factories } from './factories';
import { openSse } from './helpers/sse';
import { TcpProxy } from './helpers/tcp-proxy';
import { pollUntil } from './helpers/wait';
import { startTestApp, TEST_ENV, TestApp } from './helpers/test-app';
import { buyerAuth } from './helpers/buyer-tokens';

const BUYER_JWT_SECRET = 'conformance-buyer-secret';

const DB = 'fs_test_openapi';
const TOKEN = 'conformance-admin-token';
const ROOT = join(__dirname, '..');
const MAX_ID = Number.MAX_SAFE_INTEGER;

/** The contract's times: ISO-8601 UTC with milliseconds and a Z (ajv knows no formats by itself). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type Method = 'get' | 'post' | 'patch';

/** The contract's response headers (docs/API.md, Headers); Connection: close is only for a stopping service. */
const CONTRACT_HEADERS = ['x-request-id', 'retry-after', 'idempotent-replayed'];

/**
 * A header's value as its schema's type reads it (HTTP carries text): an integer or number schema
 * reads plain digits as a number, anything else stays text and fails the schema.
 */
function headerValue(value: string, schema: OpenAPIV3.SchemaObject): unknown {
  if (schema.type === 'integer' || schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  return value;
}

/**
 * Treats every object schema as closed, so a response field the document does not list fails too
 * (OpenAPI allows extra fields by default). Members of a multi-part allOf stay open: each lists
 * only part of the fields.
 */
function closeObjects(schema: unknown, inAllOf = false): void {
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  if (s.properties && s.additionalProperties === undefined && !inAllOf) s.additionalProperties = false;
  for (const [key, value] of Object.entries(s)) {
    if (key === 'allOf' && Array.isArray(value)) value.forEach((v) => closeObjects(v, value.length > 1));
    else if (key === 'properties' && value && typeof value === 'object') Object.values(value).forEach((v) => closeObjects(v));
    else if (key === 'example') continue;
    else if (Array.isArray(value)) value.forEach((v) => closeObjects(v));
    else closeObjects(value);
  }
}

describe('the OpenAPI document: valid, and every route and status it lists answers as it says', () => {
  const proxy = new TcpProxy(TEST_ENV.DB_HOST, Number(TEST_ENV.DB_PORT));
  let t: TestApp;
  /** A second instance on the same database without ADMIN_TOKEN, for 403 admin_disabled. */
  let noAdmin: TestApp;
  let rawDoc: OpenAPIV3.Document;
  let doc: OpenAPIV3.Document;
  const validators = new Map<string, OpenAPIResponseValidator>();
  const headerValidators = new Map<string, OpenAPIResponseValidator>();
  const exercised = new Set<string>();
  /** `METHOD /path header`: each response header the document declares, seen on a live answer. */
  const headersSeen = new Set<string>();

  beforeAll(async () => {
    // The database is reached through a relay the last test cuts, for the 503 of every route.
    await proxy.up();
    t = await startTestApp(DB, { ADMIN_TOKEN: TOKEN, DB_PORT: String(proxy.port), DB_CONNECT_TIMEOUT_MS: '1000', AVAILABILITY_CACHE_TTL_MS: '0' });
    noAdmin = await startTestApp(DB, { STREAM_MAX_CLIENTS: '1' }, { fresh: false });
    rawDoc = (await t.http().get('/docs-json').expect(200)).body;
    doc = (await SwaggerParser.dereference(structuredClone(rawDoc) as never)) as OpenAPIV3.Document;
  });
  afterAll(async () => {
    await noAdmin?.close();
    await t?.close();
    await proxy.down();
  });

  function operation(method: Method, template: string): OpenAPIV3.OperationObject {
    const op = doc.paths[template]?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${template} is not in the document`);
    return op;
  }

  /**
   * Checks an answer's headers against its documented response: every header the document requires
   * is there and every declared one it carries matches its schema, and each of the contract's
   * response headers it carries is declared for this response.
   */
  function headersConform(route: string, status: number, documented: OpenAPIV3.ResponseObject, headers: Record<string, string | string[] | undefined>): void {
    const declared = new Map(Object.entries(documented.headers ?? {}).map(([name, header]) => [name.toLowerCase(), header as OpenAPIV3.HeaderObject]));
    for (const [name, header] of declared) {
      const value = headers[name];
      if (value === undefined) {
        if (header.required) throw new Error(`${route} ${status} answered without the ${name} header, which the document requires`);
        continue;
      }
      const schema = (header.schema ?? {}) as OpenAPIV3.SchemaObject;
      const key = `${route} ${status} ${name}`;
      let validator = headerValidators.get(key);
      if (!validator) {
        // The response validator validates any value against a schema: the header's, here.
        validator = new OpenAPIResponseValidator({ responses: { 200: { description: name, content: { 'text/plain': { schema } } } } as never });
        headerValidators.set(key, validator);
      }
      const invalid = validator.validateResponse(200, headerValue(String(value), schema));
      if (invalid)
        throw new Error(`${route} ${status} answered ${name}: ${String(value)}, which does not match the document: ${JSON.stringify(invalid.errors)}`);
      headersSeen.add(`${route} ${name}`);
    }
    for (const name of CONTRACT_HEADERS) {
      if (headers[name] !== undefined && !declared.has(name)) {
        throw new Error(`${route} ${status} answered ${name}: ${String(headers[name])}, which the document does not declare for this response`);
      }
    }
  }

  /** Checks one answer against the document (status, media type, body, headers) and records it as exercised. */
  function conforms(method: Method, template: string, res: Response): Response {
    const route = `${method.toUpperCase()} ${template}`;
    const documented = operation(method, template).responses[String(res.status)] as OpenAPIV3.ResponseObject | undefined;
    if (!documented) throw new Error(`${route} answered ${res.status}, which the document does not list: ${res.text}`);
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0];
    const mediaTypes = Object.keys(documented.content ?? {});
    if (!mediaTypes.includes(mediaType)) throw new Error(`${route} ${res.status} answered ${mediaType}, the document says ${mediaTypes.join(', ')}`);
    let validator = validators.get(route);
    if (!validator) {
      const responses = structuredClone(operation(method, template).responses);
      closeObjects(responses);
      validator = new OpenAPIResponseValidator({
        responses: responses as never,
        customFormats: { 'date-time': (value: string) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)) },
      });
      validators.set(route, validator);
    }
    const body: unknown = mediaType === 'application/json' ? res.body : res.text;
    const invalid = validator.validateResponse(res.status, body);
    if (invalid) throw new Error(`${route} ${res.status} does not match the document: ${JSON.stringify(invalid.errors)}\nbody: ${res.text}`);
    headersConform(route, res.status, documented, res.headers);
    exercised.add(`${route} ${res.status}`);
    return res;
  }

  /** Sends a request to `path` (an instance of `template`) and checks its answer. */
  async function hit(
    method: Method,
    template: string,
    options: { path?: string; body?: unknown; raw?: string; type?: string; headers?: Record<string, string>; app?: TestApp } = {},
  ): Promise<Response> {
    let req: Test = (options.app ?? t).http()[method](options.path ?? template);
    for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
    if (options.raw !== undefined) req = req.set('Content-Type', options.type ?? 'application/json').send(options.raw);
    else if (options.body !== undefined) req = req.send(options.body as object);
    return conforms(method, template, await req);
  }

  /**
   * Opens an event stream and checks it on what it sent first (a stream never ends): status,
   * media type, headers, the first event as text. A refusal is JSON and complete.
   */
  async function openStream(template: string, path: string, app: TestApp = t): Promise<{ close: () => void }> {
    const stream = await openSse(app.url + path);
    let text = stream.body;
    if (stream.status === 200) text = (await pollUntil('the first event has arrived', stream.text, (x) => x.includes('\n\n'))).toString();
    const headers = { ...stream.headers, 'content-type': stream.headers['content-type'] ?? '' };
    const body: unknown = headers['content-type'].startsWith('application/json') ? JSON.parse(text) : text;
    conforms('get', template, { status: stream.status, headers, text, body } as unknown as Response);
    return stream;
  }

  const admin = { Authorization: `Bearer ${TOKEN}` };
  const big = JSON.stringify({ name: 'x'.repeat(20_000) });
  function webhook(body: unknown, signature?: string) {
    const raw = JSON.stringify(body);
    return hit('post', '/api/payments/webhook', { raw, headers: { 'X-Signature': signature ?? signBody(raw, t.config.webhookSecret) } });
  }

  it('is a valid OpenAPI 3 document', async () => {
    expect(rawDoc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(rawDoc) as never)).resolves.toBeDefined();
  });

  it('closes every request body: unknown fields are refused, and the document says so', () => {
    const bodies = Object.values(doc.paths).flatMap((item) =>
      [item?.post, item?.patch].flatMap((op) => {
        const schema = (op?.requestBody as OpenAPIV3.RequestBodyObject | undefined)?.content['application/json']?.schema;
        return schema ? [schema as OpenAPIV3.SchemaObject] : [];
      }),
    );
    expect(bodies.length).toBe(5);
    for (const schema of bodies) expect(schema.additionalProperties).toBe(false);
  });

  it("PATCH /api/products/:id's body: the document accepts exactly the bodies the service takes ({} is neither)", async () => {
    const schema = (operation('patch', '/api/products/{id}').requestBody as OpenAPIV3.RequestBodyObject).content['application/json'].schema;
    // The response validator validates any value against a schema: the request body's, here.
    const validator = new OpenAPIResponseValidator({ responses: { 200: { description: 'body', content: { 'application/json': { schema } } } } as never });
    const p = await factories(t.dataSource).makeProduct({ stock: 1 });
    for (const body of [{}, { restock: 1 }, { max_per_buyer: null }, { max_per_buyer: 2 }, { restock: 1, max_per_buyer: null }, { restock: 0 }]) {
      const documentAccepts = validator.validateResponse(200, body) === undefined;
      const res = await t.http().patch(`/api/products/${p.id}`).set(admin).send(body);
      expect({ body, documentAccepts }).toEqual({ body, documentAccepts: res.status === 200 });
    }
  });

  it('generates a TypeScript client that type-checks the quickstart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-client-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(rawDoc));
      // openapi-typescript is ESM with a CLI: run it as a child with this very node.
      execFileSync(process.execPath, [join(ROOT, 'node_modules/openapi-typescript/bin/cli.js'), join(dir, 'openapi.json'), '-o', join(dir, 'api.ts')], {
        stdio: 'pipe',
      });
      copyFileSync(join(ROOT, 'test/fixtures/quickstart-client.ts'), join(dir, 'quickstart-client.ts'));
      // A strict project of its own: no @types of any node_modules above it, fetch from the DOM lib.
      const compilerOptions = { noEmit: true, strict: true, target: 'es2022', module: 'nodenext', lib: ['es2022', 'dom'], types: [] };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['quickstart-client.ts'] }));
      try {
        execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { stdio: 'pipe' });
      } catch (err) {
        throw new Error(`the quickstart client does not compile against the generated types:\n${String((err as { stdout?: Buffer }).stdout)}`, {
          cause: err,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('operations: GET /health, GET /metrics', async () => {
    await hit('get', '/health');
    await hit('get', '/metrics');
  });

  it('products', async () => {
    await hit('post', '/api/products', { body: { name: 'Conformance', price: '12.50', stock: 5 }, headers: admin });
    await hit('post', '/api/products', { body: { name: 'x', price: 12.5, stock: 5 }, headers: admin });
    await hit('post', '/api/products', { raw: '{"name":', headers: admin });
    await hit('post', '/api/products', { body: { name: 'x', price: '1.00', stock: 1 } });
    await hit('post', '/api/products', { body: { name: 'x', price: '1.00', stock: 1 }, headers: admin, app: noAdmin });
    await hit('post', '/api/products', { raw: big, headers: admin });
    await hit('post', '/api/products', { raw: 'name=x', type: 'text/plain', headers: admin });

    const p = await factories(t.dataSource).makeProduct({ stock: 5, price: '9999999999.99' });
    await hit('get', '/api/products');
    await hit('get', '/api/products', { path: `/api/products?limit=1&after_id=0` });
    await hit('get', '/api/products', { path: `/api/products?limit=200&after_id=${p.id}` });
    await hit('get', '/api/products', { path: '/api/products?limit=0&page=2' });
    await hit('get', '/api/products/{id}', { path: `/api/products/${p.id}` });
    await hit('get', '/api/products/{id}', { path: '/api/products/01' });
    await hit('get', '/api/products/{id}', { path: `/api/products/${MAX_ID}` });

    const patch = (path: string, options: Parameters<typeof hit>[2] = {}) => hit('patch', '/api/products/{id}', { path, ...options });
    await patch(`/api/products/${p.id}`, { body: { restock: 3 }, headers: admin });
    await patch(`/api/products/${p.id}`, { body: { restock: 0 }, headers: admin });
    await patch(`/api/products/${p.id}`, { body: { restock: 1 } });
    await patch(`/api/products/${p.id}`, { body: { restock: 1 }, headers: admin, app: noAdmin });
    await patch(`/api/products/${MAX_ID}`, { body: { restock: 1 }, headers: admin });
    await patch(`/api/products/${p.id}`, { raw: big, headers: admin });
    await patch(`/api/products/${p.id}`, { raw: '3', type: 'text/plain', headers: admin });

    const movements = (path: string, options: Parameters<typeof hit>[2] = {}) => hit('get', '/api/products/{id}/movements', { path, ...options });
    await movements(`/api/products/${p.id}/movements`, { headers: admin });
    await movements(`/api/products/${p.id}/movements?limit=1&after_id=0`, { headers: admin });
    await movements(`/api/products/${p.id}/movements?limit=0&page=2`, { headers: admin });
    await movements(`/api/products/${p.id}/movements`);
    await movements(`/api/products/${p.id}/movements`, { headers: admin, app: noAdmin });
    await movements(`/api/products/${MAX_ID}/movements`, { headers: admin });
  });

  it('the availability stream: JSON refusals before it starts, text/event-stream once it has', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 5 });
    const stream = '/api/products/{id}/stream';
    (await openStream(stream, `/api/products/${p.id}/stream`)).close();
    (await openStream(stream, '/api/products/01/stream')).close();
    (await openStream(stream, `/api/products/${MAX_ID}/stream`)).close();
    // STREAM_MAX_CLIENTS=1 on the second instance: a second stream is 503.
    const first = await openStream(stream, `/api/products/${p.id}/stream`, noAdmin);
    (await openStream(stream, `/api/products/${p.id}/stream`, noAdmin)).close();
    first.close();
  });

  it("the operator's figures", async () => {
    await hit('get', '/api/admin/sales', { headers: admin });
    await hit('get', '/api/admin/sales');
    await hit('get', '/api/admin/sales', { headers: admin, app: noAdmin });
  });

  it('holds', async () => {
    const { makeProduct, makeHold } = factories(t.dataSource);
    const p = await makeProduct({ stock: 2 });
    const hold = await hit('post', '/api/holds', { body: { product_id: p.id, qty: 2 }, headers: { 'Idempotency-Key': 'conformance-hold' } });
    expect(hold.headers['idempotent-replayed']).toBeUndefined();
    // Replays of a stored 201 and of a stored 409: the same answers, with Idempotent-Replayed.
    const replayed = await hit('post', '/api/holds', { body: { product_id: p.id, qty: 2 }, headers: { 'Idempotency-Key': 'conformance-hold' } });
    expect([replayed.status, replayed.headers['idempotent-replayed'], replayed.body]).toEqual([201, 'true', hold.body]);
    const refused = await hit('post', '/api/holds', { body: { product_id: p.id, qty: 1 }, headers: { 'Idempotency-Key': 'conformance-hold-409' } });
    const refusedAgain = await hit('post', '/api/holds', { body: { product_id: p.id, qty: 1 }, headers: { 'Idempotency-Key': 'conformance-hold-409' } });
    expect([refused.status, refused.headers['idempotent-replayed']]).toEqual([409, undefined]);
    expect([refusedAgain.status, refusedAgain.headers['idempotent-replayed'], refusedAgain.body]).toEqual([409, 'true', refused.body]);
    await hit('post', '/api/holds', { body: { product_id: p.id, qty: 1 }, headers: { 'Idempotency-Key': 'conformance-hold' } });
    await hit('post', '/api/holds', { body: { product_id: p.id, qty: 1 } });
    await hit('post', '/api/holds', { body: { product_id: p.id, qty: '1' } });
    await hit('post', '/api/holds', { body: { product_id: MAX_ID, qty: 1 } });
    await hit('post', '/api/holds', { raw: big });
    await hit('post', '/api/holds', { raw: '{}', type: 'text/plain' });

    const expired = await makeHold({ productId: p.id, status: 'expired', expiresAt: new Date(Date.now() - 1000) });
    await hit('get', '/api/holds/{id}', { path: `/api/holds/${hold.body.id}` });
    await hit('get', '/api/holds/{id}', { path: `/api/holds/${expired.id}` });
    await hit('get', '/api/holds/{id}', { path: '/api/holds/0' });
    await hit('get', '/api/holds/{id}', { path: `/api/holds/${MAX_ID}` });
  });

  it('orders', async () => {
    const { makeProduct, makeHold } = factories(t.dataSource);
    const p = await makeProduct({ stock: 5, price: '19.99' });
    const hold = await makeHold({ productId: p.id, qty: 2 });
    const lapsed = await makeHold({ productId: p.id, expiresAt: new Date(Date.now() - 1000) });
    const order = await hit('post', '/api/orders', { body: { hold_id: hold.id }, headers: { 'Idempotency-Key': 'conformance-order' } });
    // Replays of a stored 201 and of a stored 410.
    const replayed = await hit('post', '/api/orders', { body: { hold_id: hold.id }, headers: { 'Idempotency-Key': 'conformance-order' } });
    expect([replayed.status, replayed.headers['idempotent-replayed'], replayed.body]).toEqual([201, 'true', order.body]);
    const gone = await hit('post', '/api/orders', { body: { hold_id: lapsed.id }, headers: { 'Idempotency-Key': 'conformance-order-410' } });
    const goneAgain = await hit('post', '/api/orders', { body: { hold_id: lapsed.id }, headers: { 'Idempotency-Key': 'conformance-order-410' } });
    expect([gone.status, gone.headers['idempotent-replayed']]).toEqual([410, undefined]);
    expect([goneAgain.status, goneAgain.headers['idempotent-replayed'], goneAgain.body]).toEqual([410, 'true', gone.body]);
    await hit('post', '/api/orders', { body: { hold_id: lapsed.id }, headers: { 'Idempotency-Key': 'conformance-order' } });
    await hit('post', '/api/orders', { body: { hold_id: hold.id } });
    await hit('post', '/api/orders', { body: { hold_id: lapsed.id } });
    await hit('post', '/api/orders', { body: { hold_id: MAX_ID } });
    await hit('post', '/api/orders', { body: { hold_id: 1.5 } });
    await hit('post', '/api/orders', { raw: big });
    await hit('post', '/api/orders', { raw: '{}', type: 'text/plain' });

    await hit('get', '/api/orders');
    await hit('get', '/api/orders', { path: `/api/orders?status=pending&product_id=${p.id}&limit=1&after_id=0` });
    await hit('get', '/api/orders', { path: '/api/orders?limit=0&page=2' });
    await hit('get', '/api/orders/{id}', { path: `/api/orders/${order.body.id}` });
    await hit('get', '/api/orders/{id}', { path: '/api/orders/1e3' });
    await hit('get', '/api/orders/{id}', { path: `/api/orders/${MAX_ID}` });

    // The webhook: applied (200), replayed (200 duplicate), deferred (202), refusals.
    const event = { idempotency_key: 'conformance-evt-1', order_id: order.body.id, status: 'success' };
    await webhook(event);
    await webhook(event);
    await webhook({ ...event, status: 'failure' });
    await webhook({ idempotency_key: 'conformance-evt-2', order_id: MAX_ID, status: 'success' });
    await webhook({ idempotency_key: 'conformance-evt-3', order_id: order.body.id, status: 'paid' });
    await webhook(event, 'sha256=' + '0'.repeat(64));
    await hit('post', '/api/payments/webhook', { raw: big });
    await hit('post', '/api/payments/webhook', { raw: '{}', type: 'text/plain' });
  });

  it('buyer tokens, the per-buyer limit and rate limits (401, 409 buyer_limit_reached, 429)', async () => {
    // Its own instance on the same database, not behind the relay: buyer tokens, one hold/order
    // and one read per minute (in this process: no REDIS_URL).
    const limited = await startTestApp(
      DB,
      { ADMIN_TOKEN: TOKEN, BUYER_AUTH: 'jwt', BUYER_JWT_SECRET, RATE_LIMIT_HOLDS_PER_MINUTE: '2', RATE_LIMIT_READS_PER_MINUTE: '1' },
      { fresh: false },
    );
    try {
      const alice = { Authorization: buyerAuth('alice', {}, BUYER_JWT_SECRET) };
      const bob = { Authorization: buyerAuth('bob', {}, BUYER_JWT_SECRET) };
      const app = limited;
      const made = await hit('post', '/api/products', { body: { name: 'Limited', price: '5.00', stock: 5, max_per_buyer: 1 }, headers: admin, app });
      await hit('post', '/api/holds', { body: { product_id: made.body.id, qty: 1 }, app });
      await hit('post', '/api/orders', { body: { hold_id: 1 }, app });
      await hit('get', '/api/holds/{id}', { path: '/api/holds/1', app });
      await hit('get', '/api/orders/{id}', { path: '/api/orders/1', app });
      const held = await hit('post', '/api/holds', { body: { product_id: made.body.id, qty: 1 }, headers: alice, app });
      await hit('post', '/api/holds', { body: { product_id: made.body.id, qty: 1 }, headers: alice, app });
      await hit('post', '/api/holds', { body: { product_id: made.body.id, qty: 1 }, headers: alice, app });
      await hit('post', '/api/orders', { body: { hold_id: held.body.id }, headers: alice, app });
      await hit('get', '/api/holds/{id}', { path: `/api/holds/${held.body.id}`, headers: bob, app });
      await hit('get', '/api/holds/{id}', { path: `/api/holds/${held.body.id}`, headers: bob, app });
      await hit('get', '/api/orders/{id}', { path: '/api/orders/1', headers: bob, app });
      await hit('get', '/api/products', { app });
      await hit('get', '/api/products', { app });
      await hit('get', '/api/products/{id}', { path: `/api/products/${made.body.id}`, app });
      // With buyer tokens the listing of every buyer's orders is the operator's: 401 without the admin token.
      await hit('get', '/api/orders', { app });
      await hit('get', '/api/orders', { headers: admin, app });
      (await openStream('/api/products/{id}/stream', `/api/products/${made.body.id}/stream`, app)).close();
    } finally {
      await limited.close();
    }
    // ... and 403 where no ADMIN_TOKEN is set.
    const noOperator = await startTestApp(DB, { BUYER_AUTH: 'jwt', BUYER_JWT_SECRET }, { fresh: false });
    try {
      await hit('get', '/api/orders', { app: noOperator });
    } finally {
      await noOperator.close();
    }
  });

  it('every route that lists 503 answers it, as documented, while the database is gone', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 5 });
    await proxy.down();
    await hit('get', '/health');
    await hit('get', '/api/products');
    await hit('get', '/api/products', { path: `/api/products?limit=1&after_id=0` });
    await hit('get', '/api/products', { path: `/api/products?limit=200&after_id=${p.id}` });
    await hit('get', '/api/products', { path: '/api/products?limit=0&page=2' });
    await hit('get', '/api/products/{id}', { path: `/api/products/${p.id}` });
    await hit('get', '/api/products/{id}/stream', { path: `/api/products/${p.id}/stream` });
    await hit('get', '/api/admin/sales', { headers: admin });
    await hit('get', '/api/products/{id}/movements', { path: `/api/products/${p.id}/movements`, headers: admin });
    await hit('post', '/api/products', { body: { name: 'Down', price: '1.00', stock: 1 }, headers: admin });
    await hit('patch', '/api/products/{id}', { path: `/api/products/${p.id}`, body: { restock: 1 }, headers: admin });
    await hit('post', '/api/holds', { body: { product_id: p.id, qty: 1 } });
    await hit('get', '/api/holds/{id}', { path: '/api/holds/1' });
    await hit('post', '/api/orders', { body: { hold_id: 1 } });
    await hit('get', '/api/orders');
    await hit('get', '/api/orders/{id}', { path: '/api/orders/1' });
    await webhook({ idempotency_key: 'conformance-evt-down', order_id: 1, status: 'success' });
  });

  it('exercised every (route, status) the document lists', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops ?? {}).flatMap(([method, op]) =>
        Object.keys((op as OpenAPIV3.OperationObject).responses ?? {}).map((status) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((r) => !exercised.has(r)).sort()).toEqual([]);
  });

  it('saw, on some live answer of each route, every response header the document declares for it', () => {
    const declared = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops ?? {}).flatMap(([method, op]) => [
        ...new Set(
          Object.values((op as OpenAPIV3.OperationObject).responses ?? {}).flatMap((r) =>
            Object.keys((r as OpenAPIV3.ResponseObject).headers ?? {}).map((name) => `${method.toUpperCase()} ${path} ${name.toLowerCase()}`),
          ),
        ),
      ]),
    );
    expect(declared.filter((h) => h.endsWith(' idempotent-replayed')).sort()).toEqual([
      'POST /api/holds idempotent-replayed',
      'POST /api/orders idempotent-replayed',
    ]);
    expect(declared.filter((h) => !headersSeen.has(h)).sort()).toEqual([]);
  });
});
