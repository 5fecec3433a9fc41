import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlaceHoldService } from '../src/checkout/place-hold.service';
import { factories } from './factories';
import { connectTestDb, startTestApp, TestApp } from './helpers/test-app';
import { blockedOnRowLock } from './helpers/row-lock';
import { pollUntil } from './helpers/wait';
import { sendWebhook } from './helpers/webhook';

const DB = 'fs_test_operations';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the Prometheus text format: fails on any line that is not a comment or a sample. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').match(/\w+="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1);
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('operations: /metrics, /health, /docs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0', WEBHOOK_SECRET: 'ops-secret' });
  });
  afterAll(() => t.close());

  async function scrape() {
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(res.text);
  }
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);

  it('counts a known sequence of requests exactly', async () => {
    const make = factories(t.dataSource);
    const p = await make.makeProduct({ stock: 3 });
    const before = (await scrape()).samples;

    const holds = [];
    for (let i = 0; i < 5; i++) holds.push(await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }));
    expect(holds.map((r) => r.status)).toEqual([201, 201, 201, 409, 409]);
    await t.http().post('/api/holds').send({ product_id: 999999, qty: 1 }).expect(404);
    const order = await t.http().post('/api/orders').send({ hold_id: holds[0].body.id }).expect(201);
    const event = { idempotency_key: 'evt_metrics', order_id: order.body.id, status: 'success' };
    await sendWebhook(t, event).expect(200);
    await sendWebhook(t, event).expect(200);
    await sendWebhook(t, { ...event, idempotency_key: 'evt_metrics_2', status: 'failure' }).expect(200);
    await sendWebhook(t, { idempotency_key: 'evt_metrics_3', order_id: 999999, status: 'success' }).expect(202);
    await t.http().get('/api/nowhere/at/all').expect(404);

    const { samples, types } = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => value(samples, name, labels) - value(before, name, labels);
    expect(delta('holds_created_total')).toBe(3);
    expect(delta('holds_rejected_total', { reason: 'insufficient_stock' })).toBe(2);
    expect(delta('holds_rejected_total', { reason: 'product_not_found' })).toBe(1);
    expect(delta('orders_created_total')).toBe(1);
    expect(delta('webhook_events_total', { result: 'applied' })).toBe(1);
    expect(delta('webhook_events_total', { result: 'duplicate' })).toBe(1);
    expect(delta('webhook_events_total', { result: 'ignored' })).toBe(1);
    expect(delta('webhook_events_total', { result: 'deferred' })).toBe(1);
    expect(delta('http_requests_total', { route: '/api/holds', status: '201' })).toBe(3);
    expect(delta('http_requests_total', { route: '/api/holds', status: '409' })).toBe(2);
    expect(delta('http_requests_total', { route: '/api/holds', status: '404' })).toBe(1);
    expect(delta('http_requests_total', { route: '/api/payments/webhook', status: '202' })).toBe(1);
    expect(delta('http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(delta('http_request_duration_seconds_count', { route: '/api/holds' })).toBe(6);
    expect(delta('stock_lock_wait_seconds_count')).toBeGreaterThanOrEqual(5);
    expect(delta('tx_retries_total')).toBe(0);

    // The order was paid: one unit left stock; two holds are still active.
    expect(value(samples, 'product_stock', { product_id: String(p.id) })).toBe(2);
    expect(value(samples, 'product_available', { product_id: String(p.id) })).toBe(0);
    expect(types.get('http_request_duration_seconds')).toBe('histogram');
    expect(types.get('stock_lock_wait_seconds')).toBe('histogram');
    expect(types.get('tx_retries_total')).toBe('counter');
    expect(types.get('product_available')).toBe('gauge');
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('GET /health is 200 with the database up', async () => {
    await t.http().get('/health').expect(200, { status: 'ok', db: 'up' });
  });

  it('GET /docs-json documents every route the application serves, with its error codes', async () => {
    const res = await t.http().get('/docs-json').expect(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(
      [
        'GET /health',
        'GET /metrics',
        'GET /api/products',
        'POST /api/products',
        'GET /api/products/{id}',
        'PATCH /api/products/{id}',
        'POST /api/holds',
        'GET /api/holds/{id}',
        'POST /api/orders',
        'GET /api/orders',
        'GET /api/orders/{id}',
        'POST /api/payments/webhook',
        'GET /api/products/{id}/stream',
        'GET /api/products/{id}/movements',
        'GET /api/admin/sales',
      ].sort(),
    );
    const codes = (method: string, path: string) => Object.keys(doc.paths[path][method].responses).sort();
    expect(codes('post', '/api/holds')).toEqual(['201', '400', '401', '404', '409', '413', '415', '422', '429', '503']);
    expect(codes('post', '/api/orders')).toEqual(['201', '400', '401', '404', '409', '410', '413', '415', '422', '429', '503']);
    expect(codes('post', '/api/payments/webhook')).toEqual(['200', '202', '400', '401', '413', '415', '422', '503']);
    expect(codes('patch', '/api/products/{id}')).toEqual(['200', '400', '401', '403', '404', '413', '415', '503']);
    expect(codes('get', '/api/products/{id}/stream')).toEqual(['200', '400', '404', '429', '503']);
    expect(Object.keys((doc.paths['/api/products/{id}/stream'].get.responses['200'] as { content: object }).content)).toEqual(['text/event-stream']);
    expect(codes('get', '/api/admin/sales')).toEqual(['200', '401', '403', '503']);
    expect(codes('get', '/api/products/{id}/movements')).toEqual(['200', '400', '401', '403', '404', '503']);
    const holdErrors = JSON.stringify(doc.paths['/api/holds'].post.responses['409']);
    expect(holdErrors).toContain('insufficient_stock');
    expect(holdErrors).toContain('idempotency_key_in_flight');
    expect(holdErrors).toContain('buyer_limit_reached');
    expect(Object.keys((res.body as { components: { securitySchemes: object } }).components.securitySchemes).sort()).toEqual([
      'admin',
      'buyer',
      'webhook_signature',
    ]);
    const schemas = JSON.stringify((res.body as { components: unknown }).components);
    for (const field of ['available', 'expires_at', 'unit_price', 'next_after_id', 'order_status', 'idempotency_key']) expect(schemas).toContain(field);
  });

  it('GET /docs serves the OpenAPI UI', async () => {
    const res = await t.http().get('/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toMatch(/swagger/i);
  });

  it('a path under /docs/ that its file server refuses is a 4xx of the contract, never a 500', async () => {
    // @fastify/static refuses a path that climbs out of its folder, is `.` or has an empty segment
    // (403), and @fastify/send one with a NUL byte (400): client errors of the framework, answered
    // `bad_request` with their status (docs/API.md, Errors), not 500 `internal_error`.
    const refused: Array<[string, number]> = [
      ['/docs/../docs-json', 403],
      ['/docs/.', 403],
      ['/docs//swagger-ui.css', 403],
      ['/docs/%00', 400],
    ];
    for (const [path, status] of refused) {
      const res = await t.http().get(path);
      expect({ path, status: res.status, body: res.body as unknown }).toEqual({
        path,
        status,
        body: { statusCode: status, error: 'bad_request', message: 'The request cannot be processed.' },
      });
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
    }
    await t
      .http()
      .get('/docs/no-such-asset.js')
      .expect(404, { statusCode: 404, error: 'not_found', message: 'No such route; the routes are listed in docs/API.md.' });
    await t.http().get('/docs/swagger-ui.css').expect(200);
  });
});

describe('hold admission under a stampede: shed with 503 and Retry-After, counted by a documented reason', () => {
  const ADMISSION_DB = `${DB}_admission`;
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(ADMISSION_DB, { AVAILABILITY_CACHE_TTL_MS: '0', HOLD_QUEUE_MAX: '1', HOLD_QUEUE_TIMEOUT_MS: '300' });
  });
  afterAll(() => t.close());

  /** The `reason` values docs/API.md lists for holds_rejected_total (its row of the Metrics table). */
  function documentedReasons(): string[] {
    const api = readFileSync(join(__dirname, '..', 'docs', 'API.md'), 'utf8');
    const row = api.split('\n').find((line) => line.startsWith('| `holds_rejected_total`'));
    const labels = row?.split('|')[3] ?? '';
    return [...labels.matchAll(/`(\w+)`/g)].map((m) => m[1]).filter((v) => v !== 'reason');
  }

  it('HOLD_QUEUE_MAX waiting: the next hold is 503 at once; a queued hold is 503 at HOLD_QUEUE_TIMEOUT_MS; neither is granted', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const body = { product_id: p.id, qty: 1 };
    const rejected = async (reason: string) => {
      const text = (await t.http().get('/metrics').expect(200)).text;
      const line = text.split('\n').find((l) => l.startsWith(`holds_rejected_total{reason="${reason}"} `));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    const before = { full: await rejected('queue_full'), timeout: await rejected('queue_timeout') };
    const locker = await connectTestDb(ADMISSION_DB);
    try {
      // The product's row lock held here: the two reservation batches an instance runs at once wait on it.
      const blocked = await blockedOnRowLock(locker, p.id, 2, () =>
        t
          .http()
          .post('/api/holds')
          .send(body)
          .then((r) => r),
      );
      const queuedAt = Date.now();
      const queued = t
        .http()
        .post('/api/holds')
        .send(body)
        .then((r) => r);
      await pollUntil(
        'one hold waits for its turn',
        () => t.app.get(PlaceHoldService).queued(p.id),
        (n) => n === 1,
      );
      const shed = await t.http().post('/api/holds').send(body);
      for (const res of [shed, await queued]) {
        expect({ status: res.status, retryAfter: res.headers['retry-after'], body: res.body as unknown }).toEqual({
          status: 503,
          retryAfter: '1',
          body: { statusCode: 503, error: 'unavailable', message: expect.any(String) },
        });
      }
      // Answered at its deadline while the lock is still held, not after it.
      expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(300);
      await locker.query('ROLLBACK');
      for (const r of await Promise.all(blocked)) expect(r.status).toBe(201);
      const [holds] = await locker.query('SELECT COUNT(*) AS n FROM holds WHERE product_id = ?', [p.id]);
      expect(Number((holds as Array<{ n: number }>)[0].n)).toBe(2);
    } finally {
      await locker.end();
    }
    expect(await rejected('queue_full')).toBe(before.full + 1);
    expect(await rejected('queue_timeout')).toBe(before.timeout + 1);
    // Every reason the service counts is one a dashboard written against docs/API.md knows.
    expect(documentedReasons()).toEqual(
      expect.arrayContaining(['insufficient_stock', 'buyer_limit_reached', 'product_not_found', 'queue_full', 'queue_timeout', 'client_gone']),
    );
  });
});
