import { directlyServed } from '../src/http/direct-route';
import { factories } from './factories';
import Redis from 'ioredis';
import { captureLogs, startTestApp, TestApp, testDbName } from './helpers/test-app';

const DB = 'fs_test_product_read';
const DB_LIMITS = 'fs_test_product_read_limits';

/**
 * GET /api/products/:id is answered by a direct handler (src/product/product-read.route.ts). Both
 * instances here share one database; the second is started with `directRoutes: false`, so it
 * serves every read through the Nest route (guards, pipes, filter). Each answer of the direct
 * handler must be the Nest route's, with rate limits off and on.
 */
describe('product read: the direct handler answers as the Nest route does', () => {
  let direct: TestApp;
  let nest: TestApp;
  const directLogs = captureLogs();
  const nestLogs = captureLogs();
  let productId: number;

  beforeAll(async () => {
    direct = await startTestApp(DB, { LOG_LEVEL: 'info' }, { logDestination: directLogs.destination });
    nest = await startTestApp(DB, { LOG_LEVEL: 'info' }, { fresh: false, logDestination: nestLogs.destination, directRoutes: false });
    productId = (await factories(direct.dataSource).makeProduct({ stock: 7, price: '12.50', name: 'Direct read' })).id;
    await direct.dataSource.query('UPDATE products SET max_per_buyer = 2 WHERE id = ?', [productId]);
  });
  afterAll(async () => {
    await direct?.close();
    await nest?.close();
  });

  const paths = () => [
    `/api/products/${productId}`,
    `/api/products/${productId}?x=1`,
    `/api/products/${productId + 1000}`,
    '/api/products/9007199254740991',
    '/api/products/9007199254740992',
    '/api/products/99999999999999999999',
    '/api/products/0',
    '/api/products/01',
    '/api/products/-1',
    '/api/products/1.5',
    '/api/products/1e3',
    '/api/products/0x10',
    '/api/products/%201',
    '/api/products/abc',
    '/api/products/%ZZ',
    '/api/products/',
  ];

  it('is served directly by a service started as usual; `directRoutes: false` leaves the Nest route', () => {
    expect(directlyServed(direct.app)).toContain('GET /api/products/:id');
    expect(directlyServed(nest.app)).toEqual([]);
  });

  it('gives the same status, headers and body for found, unknown and malformed ids, GET and HEAD', async () => {
    for (const method of ['get', 'head'] as const) {
      for (const path of paths()) {
        const [a, b] = await Promise.all([
          direct.http()[method](path).set('X-Request-Id', 'same-id'),
          nest.http()[method](path).set('X-Request-Id', 'same-id'),
        ]);
        const label = `${method.toUpperCase()} ${path}`;
        expect({ label, status: a.status }).toEqual({ label, status: b.status });
        expect({ label, body: a.body as unknown }).toEqual({ label, body: b.body as unknown });
        for (const header of ['content-type', 'content-length', 'x-request-id', 'retry-after']) {
          expect({ label, header, value: a.headers[header] }).toEqual({ label, header, value: b.headers[header] });
        }
      }
    }
    const found = await direct.http().get(`/api/products/${productId}`).expect(200);
    expect(found.body).toMatchObject({ id: productId, name: 'Direct read', price: '12.50', stock: 7, available: 7, max_per_buyer: 2 });
    expect((await direct.http().get('/api/products/01')).body).toMatchObject({ error: 'validation_failed', details: [{ field: 'id' }] });
    expect((await direct.http().get(`/api/products/${productId + 1000}`)).body).toMatchObject({ error: 'product_not_found' });
  });

  it('logs and counts each read as the Nest route does', async () => {
    const before = { direct: directLogs.events('request').length, nest: nestLogs.events('request').length };
    for (const path of [`/api/products/${productId}`, '/api/products/abc', `/api/products/${productId + 1000}`]) {
      await direct.http().get(path).set('X-Request-Id', 'logged-read');
      await nest.http().get(path).set('X-Request-Id', 'logged-read');
    }
    const shape = (lines: Array<Record<string, unknown>>) => lines.map(({ method, route, status, request_id }) => ({ method, route, status, request_id }));
    const directLines = shape(directLogs.events('request').slice(before.direct));
    expect(directLines).toEqual(shape(nestLogs.events('request').slice(before.nest)));
    expect(directLines.map((l) => l.status)).toEqual([200, 400, 404]);
    expect(directLines.every((l) => l.route === '/api/products/:id' && l.request_id === 'logged-read')).toBe(true);
    const metrics = await direct.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="\/api\/products\/:id",status="404"\} \d+/);
  });

  it('answers an empty id (a trailing slash) as a path no route matches: the 404 not_found of /api/nope, GET and HEAD, logged and counted as unmatched', async () => {
    const counted = async (app: TestApp) => {
      const metrics = (await app.http().get('/metrics').expect(200)).text;
      const sample = (route: string) =>
        Number(new RegExp(`^http_requests_total\\{method="GET",route="${route}",status="404"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0);
      return { unmatched: sample('unmatched'), route: sample('/api/products/:id') };
    };
    for (const [app, logs] of [
      [direct, directLogs],
      [nest, nestLogs],
    ] as const) {
      const before = await counted(app);
      const unmatched = await app.http().get('/api/nope').set('X-Request-Id', 'empty-id');
      expect(unmatched.body).toEqual({ statusCode: 404, error: 'not_found', message: expect.any(String) });
      for (const method of ['get', 'head'] as const) {
        const res = await app.http()[method]('/api/products/').set('X-Request-Id', 'empty-id');
        expect({ method, status: res.status }).toEqual({ method, status: 404 });
        if (method === 'get') expect(res.body).toEqual(unmatched.body);
        for (const header of ['content-type', 'content-length', 'x-request-id']) {
          expect({ method, header, value: res.headers[header] }).toEqual({ method, header, value: unmatched.headers[header] });
        }
      }
      const lines = logs.events('request').filter((l) => l.request_id === 'empty-id');
      expect(lines.map(({ method, route, status }) => ({ method, route, status }))).toEqual([
        { method: 'GET', route: 'unmatched', status: 404 },
        { method: 'GET', route: 'unmatched', status: 404 },
        { method: 'HEAD', route: 'unmatched', status: 404 },
      ]);
      expect(await counted(app)).toEqual({ unmatched: before.unmatched + 2, route: before.route });
    }
  });
});

describe('product read: the direct handler answers as the Nest route does with rate limits on', () => {
  let direct: TestApp;
  let nest: TestApp;
  let productId: number;
  // Two clients of their own addresses (TRUST_PROXY reads them): the instances share the counters.
  const address = { direct: '198.51.100.1', nest: '198.51.100.2' };
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', TRUST_PROXY: 'true', RATE_LIMIT_READS_PER_MINUTE: '3' };

  beforeAll(async () => {
    // Counters of an earlier run of this file (a window lasts a minute) would be counted: they go first.
    const redis = new Redis(env.REDIS_URL);
    try {
      const keys = await redis.keys(`*rate:${testDbName(DB_LIMITS)}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    direct = await startTestApp(DB_LIMITS, env);
    nest = await startTestApp(DB_LIMITS, env, { fresh: false, directRoutes: false });
    productId = (await factories(direct.dataSource).makeProduct({ stock: 7, name: 'Limited read' })).id;
  });
  afterAll(async () => {
    await direct?.close();
    await nest?.close();
  });

  it('counts found, unknown and malformed reads alike and refuses past the limit with the same 429, Retry-After and metric', async () => {
    const statuses: number[] = [];
    for (const path of [
      `/api/products/${productId}`,
      '/api/products/abc',
      `/api/products/${productId + 1000}`,
      `/api/products/${productId}`,
      '/api/products/abc',
    ]) {
      const a = await direct.http().get(path).set('X-Forwarded-For', address.direct).set('X-Request-Id', 'limited');
      const b = await nest.http().get(path).set('X-Forwarded-For', address.nest).set('X-Request-Id', 'limited');
      expect({ path, status: a.status, body: a.body as unknown }).toEqual({ path, status: b.status, body: b.body as unknown });
      for (const header of ['content-type', 'x-request-id', 'retry-after']) {
        expect({ path, header, value: a.headers[header] }).toEqual({ path, header, value: b.headers[header] });
      }
      statuses.push(a.status);
    }
    expect(statuses).toEqual([200, 400, 404, 429, 429]);
    // Past the limit, an empty id is still the unmatched route's 404: it is no read of this route.
    for (const app of [direct, nest]) {
      for (const method of ['get', 'head'] as const) {
        const res = await app
          .http()
          [method]('/api/products/')
          .set('X-Forwarded-For', app === direct ? address.direct : address.nest);
        expect({ method, status: res.status }).toEqual({ method, status: 404 });
      }
    }
    for (const app of [direct, nest]) {
      expect((await app.http().get('/metrics')).text).toMatch(/rate_limited_total\{route="\/api\/products\/:id"\} 2\b/);
    }
  });
});
