import request from 'supertest';
import { directlyServed } from '../src/http/direct-route';
import { factories } from './factories';
import { BUYER_SECRET, buyerAuth } from './helpers/buyer-tokens';
import { captureLogs, startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_place_hold_route';
const DB_FAIR = 'fs_test_place_hold_route_fair';

/** A request to POST /api/holds: its body as sent (a string is sent raw), content type and headers. */
interface Case {
  name: string;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

/** An answer with what differs between any two holds (ids, times, the per-instance buyer) replaced, so two answers compare. */
function comparable(res: request.Response): Record<string, unknown> {
  const body = res.body as Record<string, unknown>;
  const stable = typeof body?.id === 'number' ? { ...body, id: 'id', expires_at: 'time', created_at: 'time', buyer: typeof body.buyer } : body;
  const headers = Object.fromEntries(['content-type', 'x-request-id', 'idempotent-replayed', 'retry-after', 'connection'].map((h) => [h, res.headers[h]]));
  return { status: res.status, body: stable, headers };
}

/** Two instances over one database: `direct` answers POST /api/holds by its direct handler, `nest` through Nest's router, guards and filter. */
interface Pair {
  direct: TestApp;
  nest: TestApp;
}

function send(app: TestApp, c: Case): request.Test {
  let req = app
    .http()
    .post('/api/holds')
    .set('X-Request-Id', `case-${c.name.replace(/\W+/g, '-')}`);
  for (const [name, value] of Object.entries(c.headers ?? {})) req = req.set(name, value);
  if (c.contentType) req = req.set('Content-Type', c.contentType);
  if (c.body === undefined) return req;
  return req.send(typeof c.body === 'string' ? c.body : (c.body as object));
}

/**
 * Sends `c` to both instances and expects the same answer. What the two share (the database, the
 * rate limit counters in Redis) is kept apart per instance: an Idempotency-Key is suffixed, and
 * `buyer` (a case's buyer, sent as an HS256 token) becomes a buyer of its own per instance and run.
 */
async function same(pair: Pair, c: Case & { buyer?: string }): Promise<request.Response> {
  const perInstance = (suffix: string): Case => {
    const headers = { ...c.headers };
    if (headers['Idempotency-Key']) headers['Idempotency-Key'] = `${headers['Idempotency-Key']}-${suffix}`;
    if (c.buyer) headers.Authorization = buyerAuth(`${c.buyer}-${suffix}-${runId}`);
    return { ...c, headers };
  };
  const a = await send(pair.direct, perInstance('direct'));
  const b = await send(pair.nest, perInstance('nest'));
  expect({ case: c.name, ...comparable(a) }).toEqual({ case: c.name, ...comparable(b) });
  return a;
}
/** Rate limit counters outlive a run (a window lasts a minute): each run's buyers are new. */
const runId = Date.now().toString(36);

/**
 * POST /api/holds is answered by a direct handler (src/checkout/place-hold.route.ts). Each answer
 * of the direct handler must be the Nest route's (an instance started with `directRoutes: false`),
 * with buyer tokens and rate limits off and on.
 */
describe('POST /api/holds: the direct handler answers as the Nest route does (buyer tokens and rate limits off)', () => {
  const pair = {} as Pair;
  const directLogs = captureLogs();
  const nestLogs = captureLogs();
  let productId: number;
  let scarceId: number;

  beforeAll(async () => {
    pair.direct = await startTestApp(DB, { LOG_LEVEL: 'info' }, { logDestination: directLogs.destination });
    pair.nest = await startTestApp(DB, { LOG_LEVEL: 'info' }, { fresh: false, logDestination: nestLogs.destination, directRoutes: false });
    productId = (await factories(pair.direct.dataSource).makeProduct({ stock: 1000 })).id;
    scarceId = (await factories(pair.direct.dataSource).makeProduct({ stock: 1 })).id;
  });
  afterAll(async () => {
    await pair.direct?.close();
    await pair.nest?.close();
  });

  it('is served directly by a service started as usual; `directRoutes: false` leaves the Nest route', () => {
    expect(directlyServed(pair.direct.app)).toContain('POST /api/holds');
    expect(directlyServed(pair.nest.app)).toEqual([]);
  });

  it('gives the same status, headers and body for holds granted and refused, and bodies of every kind', async () => {
    const json = 'application/json';
    const cases: Case[] = [
      { name: 'granted', body: { product_id: 0, qty: 1 } },
      { name: 'qty zero', body: { product_id: 0, qty: 0 } },
      { name: 'qty too large', body: { product_id: 0, qty: 1000 } },
      { name: 'extra field', body: { product_id: 0, qty: 1, price: 1 } },
      { name: 'product id a string', body: { product_id: 'x', qty: 1 } },
      { name: 'missing fields', body: {} },
      { name: 'unknown product', body: { product_id: 987654321, qty: 1 } },
      { name: 'insufficient stock', body: { product_id: -1, qty: 2 } },
      { name: 'invalid JSON', body: '{"product_id":', contentType: json },
      { name: 'empty JSON body', body: '', contentType: json },
      { name: 'JSON array', body: '[1]', contentType: json },
      { name: 'JSON string', body: '"hold"', contentType: json },
      { name: 'forbidden key', body: '{"__proto__":{"x":1},"product_id":1,"qty":1}', contentType: json },
      { name: 'text body', body: 'product_id=1', contentType: 'text/plain' },
      { name: 'no body', body: undefined },
      { name: 'key too long', body: { product_id: 0, qty: 1 }, headers: { 'Idempotency-Key': 'k'.repeat(300) } },
    ];
    // product_id 0 stands for the roomy product, -1 for the one with a single unit.
    const ids = (body: unknown): unknown => {
      if (typeof body !== 'object' || body === null || !('product_id' in body)) return body;
      if (body.product_id === 0) return { ...body, product_id: productId };
      if (body.product_id === -1) return { ...body, product_id: scarceId };
      return body;
    };
    const statuses: number[] = [];
    for (const c of cases) statuses.push((await same(pair, { ...c, body: ids(c.body) })).status);
    expect(statuses).toEqual([201, 400, 400, 400, 400, 400, 404, 409, 400, 400, 400, 400, 400, 415, 400, 400]);
  });

  it('gives the same answers to Idempotency-Key firsts, replays, reuse with another body and refusals kept as the answer', async () => {
    const body = { product_id: productId, qty: 2 };
    const first = await same(pair, { name: 'key first', body, headers: { 'Idempotency-Key': 'route-a' } });
    expect(first.status).toBe(201);
    const replay = await same(pair, { name: 'key replay', body, headers: { 'Idempotency-Key': 'route-a' } });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect((await same(pair, { name: 'key other body', body: { ...body, qty: 3 }, headers: { 'Idempotency-Key': 'route-a' } })).status).toBe(422);
    const refused = await same(pair, { name: 'key refusal', body: { product_id: productId, qty: 0 }, headers: { 'Idempotency-Key': 'route-b' } });
    expect(refused.status).toBe(400);
    const refusedAgain = await same(pair, { name: 'key refusal replay', body: { product_id: productId, qty: 0 }, headers: { 'Idempotency-Key': 'route-b' } });
    expect(refusedAgain.headers['idempotent-replayed']).toBe('true');
  });

  // The domain lines (hold.created with the request's id) of the direct handler are tested in
  // test/logs.e2e-spec.ts, whose app serves holds directly; here both apps share Nest's one global
  // logger for those, so only each app's own `request` lines can be told apart.
  it('logs each request as the Nest route does', async () => {
    const before = { direct: directLogs.events('request').length, nest: nestLogs.events('request').length };
    await same(pair, { name: 'logged', body: { product_id: productId, qty: 1 } });
    await same(pair, { name: 'logged refused', body: { product_id: scarceId, qty: 5 } });
    const shape = (lines: Array<Record<string, unknown>>) => lines.map(({ method, route, status, request_id }) => ({ method, route, status, request_id }));
    const directLines = shape(directLogs.events('request').slice(before.direct));
    expect(directLines).toEqual(shape(nestLogs.events('request').slice(before.nest)));
    expect(directLines).toEqual([
      { method: 'POST', route: '/api/holds', status: 201, request_id: 'case-logged' },
      { method: 'POST', route: '/api/holds', status: 409, request_id: 'case-logged-refused' },
    ]);
  });
});

describe('POST /api/holds: the direct handler answers as the Nest route does (buyer tokens and rate limits on)', () => {
  const pair = {} as Pair;
  const env = {
    REDIS_URL: 'redis://127.0.0.1:6379',
    BUYER_AUTH: 'jwt',
    BUYER_JWT_SECRET: BUYER_SECRET,
    RATE_LIMIT_HOLDS_PER_MINUTE: '3',
    RATE_LIMIT_READS_PER_MINUTE: '100',
  };
  let productId: number;

  beforeAll(async () => {
    pair.direct = await startTestApp(DB_FAIR, env);
    pair.nest = await startTestApp(DB_FAIR, env, { fresh: false, directRoutes: false });
    productId = (await factories(pair.direct.dataSource).makeProduct({ stock: 1000 })).id;
  });
  afterAll(async () => {
    await pair.direct?.close();
    await pair.nest?.close();
  });

  it('refuses missing and bad buyer tokens with 401 and grants the buyer of a good one, before any rate limit or body check', async () => {
    const body = { product_id: productId, qty: 1 };
    const cases: Array<Case & { buyer?: string }> = [
      { name: 'no token', body },
      { name: 'garbage token', body, headers: { Authorization: 'Bearer not.a.token' } },
      { name: 'wrong key', body, headers: { Authorization: buyerAuth('mallory', {}, 'another-secret-0123456789abcdef') } },
      { name: 'expired', body, headers: { Authorization: buyerAuth('mallory', { expiresIn: -120 }) } },
      { name: 'no token, bad body', body: '{"product_id":', contentType: 'application/json' },
      { name: 'good token', body, buyer: 'alice' },
      { name: 'good token, bad body', body: { product_id: productId, qty: 0 }, buyer: 'bob' },
    ];
    const statuses: number[] = [];
    for (const c of cases) statuses.push((await same(pair, c)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 201, 400]);
  });

  it('counts every request of a buyer, refuses past the limit with 429 and Retry-After, serves a stored answer uncounted, and counts the refusal in the metric', async () => {
    const hold = { product_id: productId, qty: 1 };
    const statuses: number[] = [];
    // The first is kept under a key; a bad body still counts (the limit comes before the body).
    statuses.push((await same(pair, { name: 'first, keyed', body: hold, buyer: 'carol', headers: { 'Idempotency-Key': 'fair-a' } })).status);
    statuses.push((await same(pair, { name: 'bad body', body: { ...hold, qty: 0 }, buyer: 'carol' })).status);
    statuses.push((await same(pair, { name: 'third', body: hold, buyer: 'carol' })).status);
    const refused = await same(pair, { name: 'past the limit', body: hold, buyer: 'carol' });
    statuses.push(refused.status);
    const replay = await same(pair, { name: 'replay past the limit', body: hold, buyer: 'carol', headers: { 'Idempotency-Key': 'fair-a' } });
    statuses.push(replay.status);
    statuses.push((await same(pair, { name: 'new key past the limit', body: hold, buyer: 'carol', headers: { 'Idempotency-Key': 'fair-b' } })).status);
    expect(statuses).toEqual([201, 400, 201, 429, 201, 429]);
    expect(refused.body).toEqual({ statusCode: 429, error: 'rate_limited', message: expect.any(String) as string });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    for (const app of [pair.direct, pair.nest]) {
      expect((await app.http().get('/metrics')).text).toMatch(/rate_limited_total\{route="\/api\/holds"\} 2\b/);
    }
  });
});
