import request from 'supertest';
import { factories } from './factories';
import { captureLogs, startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_place_hold_route';

/** A request to POST /api/holds: its body as sent (a string is sent raw), content type and headers. */
interface Case {
  name: string;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

/** An answer with what differs between any two holds (ids, times) replaced, so two answers compare. */
function comparable(res: request.Response): Record<string, unknown> {
  const body = res.body as Record<string, unknown>;
  const stable = typeof body?.id === 'number' ? { ...body, id: 'id', expires_at: 'time', created_at: 'time' } : body;
  const headers = Object.fromEntries(['content-type', 'x-request-id', 'idempotent-replayed', 'retry-after', 'connection'].map((h) => [h, res.headers[h]]));
  return { status: res.status, body: stable, headers };
}

/**
 * POST /api/holds is answered by a direct handler (src/checkout/place-hold.route.ts) when buyer
 * tokens and rate limits are off, and by the Nest route (guards, filter) otherwise. Both instances
 * here share one database; the second has a holds limit no test reaches, so it serves every hold
 * through Nest. Each answer of the direct handler must be the Nest route's.
 */
describe('POST /api/holds: the direct handler answers as the Nest route does', () => {
  let direct: TestApp;
  let nest: TestApp;
  const directLogs = captureLogs();
  const nestLogs = captureLogs();
  let productId: number;
  let scarceId: number;

  beforeAll(async () => {
    direct = await startTestApp(DB, { LOG_LEVEL: 'info' }, { logDestination: directLogs.destination });
    nest = await startTestApp(DB, { LOG_LEVEL: 'info', RATE_LIMIT_HOLDS_PER_MINUTE: '1000000' }, { fresh: false, logDestination: nestLogs.destination });
    productId = (await factories(direct.dataSource).makeProduct({ stock: 1000 })).id;
    scarceId = (await factories(direct.dataSource).makeProduct({ stock: 1 })).id;
  });
  afterAll(async () => {
    await direct?.close();
    await nest?.close();
  });

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

  /** Sends `c` to both instances (the key, if any, suffixed per instance: the database is shared) and expects the same answer. */
  async function same(c: Case): Promise<request.Response> {
    const perInstance = (suffix: string): Case =>
      c.headers?.['Idempotency-Key'] ? { ...c, headers: { ...c.headers, 'Idempotency-Key': `${c.headers['Idempotency-Key']}-${suffix}` } } : c;
    const a = await send(direct, perInstance('direct'));
    const b = await send(nest, perInstance('nest'));
    expect({ case: c.name, ...comparable(a) }).toEqual({ case: c.name, ...comparable(b) });
    return a;
  }

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
    for (const c of cases) statuses.push((await same({ ...c, body: ids(c.body) })).status);
    expect(statuses).toEqual([201, 400, 400, 400, 400, 400, 404, 409, 400, 400, 400, 400, 400, 415, 400, 400]);
  });

  it('gives the same answers to Idempotency-Key firsts, replays, reuse with another body and refusals kept as the answer', async () => {
    const body = { product_id: productId, qty: 2 };
    const first = await same({ name: 'key first', body, headers: { 'Idempotency-Key': 'route-a' } });
    expect(first.status).toBe(201);
    const replay = await same({ name: 'key replay', body, headers: { 'Idempotency-Key': 'route-a' } });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect((await same({ name: 'key other body', body: { ...body, qty: 3 }, headers: { 'Idempotency-Key': 'route-a' } })).status).toBe(422);
    const refused = await same({ name: 'key refusal', body: { product_id: productId, qty: 0 }, headers: { 'Idempotency-Key': 'route-b' } });
    expect(refused.status).toBe(400);
    const refusedAgain = await same({ name: 'key refusal replay', body: { product_id: productId, qty: 0 }, headers: { 'Idempotency-Key': 'route-b' } });
    expect(refusedAgain.headers['idempotent-replayed']).toBe('true');
  });

  // The domain lines (hold.created with the request's id) of the direct handler are tested in
  // test/logs.e2e-spec.ts, whose app serves holds directly; here both apps share Nest's one global
  // logger for those, so only each app's own `request` lines can be told apart.
  it('logs each request as the Nest route does', async () => {
    const before = { direct: directLogs.events('request').length, nest: nestLogs.events('request').length };
    await same({ name: 'logged', body: { product_id: productId, qty: 1 } });
    await same({ name: 'logged refused', body: { product_id: scarceId, qty: 5 } });
    const shape = (lines: Array<Record<string, unknown>>) => lines.map(({ method, route, status, request_id }) => ({ method, route, status, request_id }));
    const directLines = shape(directLogs.events('request').slice(before.direct));
    expect(directLines).toEqual(shape(nestLogs.events('request').slice(before.nest)));
    expect(directLines).toEqual([
      { method: 'POST', route: '/api/holds', status: 201, request_id: 'case-logged' },
      { method: 'POST', route: '/api/holds', status: 409, request_id: 'case-logged-refused' },
    ]);
  });
});
