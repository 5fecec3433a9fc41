import { connect } from 'node:net';
import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';
import { asIs, sendWebhook } from './helpers/webhook';

const DB = 'fs_test_bad_input';

interface Case {
  name: string;
  method?: 'post' | 'get' | 'patch' | 'delete' | 'put' | 'options';
  path: string;
  /** A raw string is sent as is; anything else is sent as JSON. */
  body?: unknown;
  contentType?: string | null;
  status: number;
  error: string;
  field?: string;
  /** When given, `details` is exactly this one problem of `field`. */
  problem?: string;
}

describe('bad input always gets the contract error, never a 500, never a change', () => {
  let t: TestApp;
  let productId: number;
  let holdId: number;

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0', ADMIN_TOKEN: 'bad-input-admin' });
    const make = factories(t.dataSource);
    productId = (await make.makeProduct({ stock: 20 })).id;
    holdId = (await t.http().post('/api/holds').send({ product_id: productId, qty: 1 }).expect(201)).body.id;
  });
  afterAll(() => t.close());

  const cases = (): Case[] => [
    { name: 'qty as string', path: '/api/holds', body: { product_id: productId, qty: '1' }, status: 400, error: 'validation_failed', field: 'qty' },
    {
      name: 'product_id as numeric string',
      path: '/api/holds',
      body: { product_id: String(productId), qty: 1 },
      status: 400,
      error: 'validation_failed',
      field: 'product_id',
    },
    { name: 'qty zero', path: '/api/holds', body: { product_id: productId, qty: 0 }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty negative', path: '/api/holds', body: { product_id: productId, qty: -1 }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty fractional', path: '/api/holds', body: { product_id: productId, qty: 1.5 }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty huge', path: '/api/holds', body: { product_id: productId, qty: 1e20 }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty over MAX_HOLD_QTY', path: '/api/holds', body: { product_id: productId, qty: 11 }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty null', path: '/api/holds', body: { product_id: productId, qty: null }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty boolean', path: '/api/holds', body: { product_id: productId, qty: true }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty array', path: '/api/holds', body: { product_id: productId, qty: [1] }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty object', path: '/api/holds', body: { product_id: productId, qty: { n: 1 } }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'qty missing', path: '/api/holds', body: { product_id: productId }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'product_id missing', path: '/api/holds', body: { qty: 1 }, status: 400, error: 'validation_failed', field: 'product_id' },
    { name: 'product_id zero', path: '/api/holds', body: { product_id: 0, qty: 1 }, status: 400, error: 'validation_failed', field: 'product_id' },
    { name: 'product_id negative', path: '/api/holds', body: { product_id: -5, qty: 1 }, status: 400, error: 'validation_failed', field: 'product_id' },
    {
      name: 'product_id beyond 2^53-1',
      path: '/api/holds',
      body: '{"product_id": 99999999999999999999, "qty": 1}',
      status: 400,
      error: 'validation_failed',
      field: 'product_id',
    },
    { name: 'product_id fractional', path: '/api/holds', body: { product_id: 1.25, qty: 1 }, status: 400, error: 'validation_failed', field: 'product_id' },
    {
      name: 'unknown field',
      path: '/api/holds',
      body: { product_id: productId, qty: 1, coupon: 'FREE' },
      status: 400,
      error: 'validation_failed',
      field: 'coupon',
    },
    {
      name: '__proto__ key',
      path: '/api/holds',
      body: '{"product_id": 1, "qty": 1, "__proto__": {"admin": true}}',
      status: 400,
      error: 'validation_failed',
      field: '__proto__',
      problem: 'is not allowed',
    },
    {
      name: '__proto__ key spelled with escapes',
      path: '/api/holds',
      body: '{"product_id": 1, "qty": 1, "\\u005f\\u005fproto\\u005f\\u005f": {"admin": true}}',
      status: 400,
      error: 'validation_failed',
      field: '__proto__',
      problem: 'is not allowed',
    },
    {
      name: 'constructor key spelled with an escape',
      path: '/api/holds',
      body: '{"product_id": 1, "qty": 1, "c\\u006fnstructor": {}}',
      status: 400,
      error: 'validation_failed',
      field: 'constructor',
      problem: 'is not allowed',
    },
    { name: 'body is an array', path: '/api/holds', body: '[{"product_id": 1, "qty": 1}]', status: 400, error: 'validation_failed', field: 'body' },
    { name: 'body is a string', path: '/api/holds', body: '"hello"', status: 400, error: 'validation_failed', field: 'body' },
    { name: 'body is null', path: '/api/holds', body: 'null', status: 400, error: 'validation_failed', field: 'body' },
    { name: 'empty JSON body', path: '/api/holds', body: '', status: 400, error: 'invalid_json' },
    { name: 'truncated JSON', path: '/api/holds', body: '{"product_id": 1, "qty":', status: 400, error: 'invalid_json' },
    { name: 'single quotes JSON', path: '/api/holds', body: "{'product_id': 1}", status: 400, error: 'invalid_json' },
    { name: 'text/plain body', path: '/api/holds', body: 'product_id=1&qty=1', contentType: 'text/plain', status: 415, error: 'unsupported_media_type' },
    {
      name: 'form body',
      path: '/api/holds',
      body: 'product_id=1&qty=1',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
      error: 'unsupported_media_type',
    },
    { name: 'no content type', path: '/api/holds', body: '{"product_id": 1, "qty": 1}', contentType: null, status: 415, error: 'unsupported_media_type' },
    {
      name: 'too large JSON',
      path: '/api/holds',
      body: JSON.stringify({ product_id: productId, qty: 1, pad: 'x'.repeat(17_000) }),
      status: 413,
      error: 'payload_too_large',
    },
    {
      name: 'too large and wrong type: 413 first',
      path: '/api/holds',
      body: 'x'.repeat(20_000),
      contentType: 'text/plain',
      status: 413,
      error: 'payload_too_large',
    },
    { name: 'order: hold_id string', path: '/api/orders', body: { hold_id: String(holdId) }, status: 400, error: 'validation_failed', field: 'hold_id' },
    { name: 'order: hold_id zero', path: '/api/orders', body: { hold_id: 0 }, status: 400, error: 'validation_failed', field: 'hold_id' },
    { name: 'order: hold_id fractional', path: '/api/orders', body: { hold_id: 1.5 }, status: 400, error: 'validation_failed', field: 'hold_id' },
    { name: 'order: missing hold_id', path: '/api/orders', body: {}, status: 400, error: 'validation_failed', field: 'hold_id' },
    { name: 'order: extra field', path: '/api/orders', body: { hold_id: holdId, qty: 5 }, status: 400, error: 'validation_failed', field: 'qty' },
    { name: 'order: invalid JSON', path: '/api/orders', body: '{hold_id:1}', status: 400, error: 'invalid_json' },
    { name: 'product id abc', method: 'get', path: '/api/products/abc', status: 400, error: 'validation_failed', field: 'id' },
    { name: 'product id zero', method: 'get', path: '/api/products/0', status: 400, error: 'validation_failed', field: 'id' },
    { name: 'product id negative', method: 'get', path: '/api/products/-1', status: 400, error: 'validation_failed', field: 'id' },
    { name: 'product id fractional', method: 'get', path: '/api/products/1.5', status: 400, error: 'validation_failed', field: 'id' },
    { name: 'product id huge', method: 'get', path: '/api/products/99999999999999999999', status: 400, error: 'validation_failed', field: 'id' },
    { name: 'malformed percent-encoding in the path', method: 'get', path: '/api/products/%ZZ', status: 400, error: 'validation_failed', field: 'path' },
    {
      name: 'malformed percent-encoding on a POST route',
      path: '/api/holds%E0%A4%A',
      body: { product_id: productId, qty: 1 },
      status: 400,
      error: 'validation_failed',
      field: 'path',
    },
    { name: 'product id leading zero', method: 'get', path: '/api/products/01', status: 400, error: 'validation_failed', field: 'id' },
    { name: 'hold id abc', method: 'get', path: '/api/holds/abc', status: 400, error: 'validation_failed', field: 'id' },
    { name: 'order id 1e3', method: 'get', path: '/api/orders/1e3', status: 400, error: 'validation_failed', field: 'id' },
    { name: 'unknown route', method: 'get', path: '/api/nothing-here', status: 404, error: 'not_found' },
    { name: 'unknown method on a route', method: 'delete', path: '/api/holds', status: 404, error: 'not_found' },
    { name: 'path outside /api', method: 'get', path: '/products/1', status: 404, error: 'not_found' },
    // A path or method no route serves is 404 whatever its body's media type; only an oversized
    // body is refused first, 413, as the body is read before anything else.
    {
      name: 'unknown method with a text body',
      method: 'delete',
      path: '/api/products/1',
      body: 'x',
      contentType: 'text/plain',
      status: 404,
      error: 'not_found',
    },
    { name: 'unknown method without a body', method: 'delete', path: '/api/products/1', status: 404, error: 'not_found' },
    { name: 'unknown route with a text body', path: '/api/nope', body: 'x', contentType: 'text/plain', status: 404, error: 'not_found' },
    {
      name: 'unknown route with a form body',
      method: 'put',
      path: '/api/holds',
      body: 'a=1',
      contentType: 'application/x-www-form-urlencoded',
      status: 404,
      error: 'not_found',
    },
    { name: 'unknown route with a body and no content type', path: '/api/nope', body: '{}', contentType: null, status: 404, error: 'not_found' },
    { name: 'unknown route with a malformed content type', path: '/api/nope', body: 'x', contentType: 'nonsense', status: 404, error: 'not_found' },
    { name: 'unknown route with a JSON body', path: '/api/nope', body: { product_id: 1, qty: 1 }, status: 404, error: 'not_found' },
    { name: 'unknown route with invalid JSON', method: 'options', path: '/api/products', body: '{"a":', status: 404, error: 'not_found' },
    {
      name: 'unknown route, oversized text body: 413',
      path: '/api/nope',
      body: 'x'.repeat(20_000),
      contentType: 'text/plain',
      status: 413,
      error: 'payload_too_large',
    },
    { name: 'unknown route, oversized JSON body: 413', path: '/api/nope', body: { pad: 'x'.repeat(20_000) }, status: 413, error: 'payload_too_large' },
    // A Content-Type that does not parse is refused before the body is read: its declared length decides 413.
    { name: 'malformed content type', path: '/api/holds', body: 'x', contentType: 'nonsense', status: 415, error: 'unsupported_media_type' },
    {
      name: 'oversized, malformed content type: 413',
      path: '/api/holds',
      body: 'x'.repeat(20_000),
      contentType: 'nonsense',
      status: 413,
      error: 'payload_too_large',
    },
    {
      name: 'unknown route, oversized, malformed content type: 413',
      path: '/api/nope',
      body: 'x'.repeat(20_000),
      contentType: 'nonsense',
      status: 413,
      error: 'payload_too_large',
    },
    // An empty path parameter names nothing: whatever the router makes of it, the path matches no route.
    { name: 'empty product id (trailing slash)', method: 'get', path: '/api/products/', status: 404, error: 'not_found' },
    { name: 'empty product id on PATCH', method: 'patch', path: '/api/products/', body: { restock: 1 }, status: 404, error: 'not_found' },
    { name: 'empty hold id', method: 'get', path: '/api/holds/', status: 404, error: 'not_found' },
    { name: 'empty order id', method: 'get', path: '/api/orders/', status: 404, error: 'not_found' },
    { name: 'empty id of the movements', method: 'get', path: '/api/products//movements', status: 404, error: 'not_found' },
    { name: 'empty id of the stream', method: 'get', path: '/api/products//stream', status: 404, error: 'not_found' },
  ];

  async function state() {
    const [row] = await t.dataSource.query(
      `SELECT p.stock, p.reserved, (SELECT COUNT(*) FROM holds) AS holds, (SELECT COUNT(*) FROM orders) AS orders
         FROM products p WHERE p.id = ?`,
      [productId],
    );
    return { stock: Number(row.stock), reserved: Number(row.reserved), holds: Number(row.holds), orders: Number(row.orders) };
  }

  it('has at least 30 cases', () => {
    expect(cases().length).toBeGreaterThanOrEqual(30);
  });

  it('answers each case with its status and error code and changes nothing', async () => {
    const before = await state();
    for (const c of cases()) {
      let req = t.http()[c.method ?? 'post'](c.path).set('X-Request-Id', 'bad-input.case');
      if (c.body !== undefined) {
        const raw = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
        if (c.contentType !== null) req = req.set('Content-Type', c.contentType ?? 'application/json');
        req = req.send(raw);
      }
      const res = await req;
      const seen = { name: c.name, status: res.status, error: res.body?.error };
      expect(seen).toEqual({ name: c.name, status: c.status, error: c.error });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-request-id']).toBe('bad-input.case');
      expect(res.body.statusCode).toBe(c.status);
      expect(typeof res.body.message).toBe('string');
      expect(JSON.stringify(res.body)).not.toMatch(/SELECT|INSERT|stack|at \w+ \(|node_modules/i);
      if (c.field) {
        expect({ name: c.name, fields: (res.body.details as Array<{ field: string }>).map((d) => d.field) }).toEqual({
          name: c.name,
          fields: expect.arrayContaining([c.field]),
        });
      }
      if (c.problem) expect({ name: c.name, details: res.body.details }).toEqual({ name: c.name, details: [{ field: c.field, problem: c.problem }] });
    }
    expect(await state()).toEqual(before);
  });

  it('refuses a path id of any length as `id`, not as a malformed URL: 101, 5000 and 16000 digits', async () => {
    // 16000 digits keep the request's head under Node's 16 KiB limit (431 beyond it).
    for (const digits of [101, 5000, 16_000]) {
      const id = '9'.repeat(digits);
      for (const [method, template] of [
        ['get', '/api/products/ID'],
        ['head', '/api/products/ID'],
        ['get', '/api/holds/ID'],
        ['head', '/api/holds/ID'],
        ['get', '/api/orders/ID'],
        ['get', '/api/products/ID/stream'],
      ] as const) {
        const res = await t.http()[method](template.replace('ID', id)).set('X-Request-Id', 'long-id');
        const label = { digits, method, template };
        expect({ ...label, status: res.status, request_id: res.headers['x-request-id'] }).toEqual({ ...label, status: 400, request_id: 'long-id' });
        if (method === 'get') {
          expect({ ...label, body: res.body as unknown }).toEqual({
            ...label,
            body: {
              statusCode: 400,
              error: 'validation_failed',
              message: expect.any(String),
              details: [{ field: 'id', problem: 'must be an integer from 1 to 9007199254740991' }],
            },
          });
        }
      }
    }
  });

  it('refuses a body nested more than 32 levels deep as `body`, on every body route, before the Idempotency-Key, never 500', async () => {
    // `{"x": [[…]]}` with the object itself as level 1; `fields` are the route's own fields.
    const nested = (levels: number, fields: string, inner = '') => `{${fields}"x":${'['.repeat(levels - 1)}${inner}${']'.repeat(levels - 1)}}`;
    const tooDeep = { field: 'body', problem: 'must not nest arrays or objects more than 32 levels deep' };
    const before = await state();
    const routes = [
      { path: '/api/holds', fields: `"product_id":${productId},"qty":1,`, key: true },
      { path: '/api/orders', fields: `"hold_id":${holdId},`, key: true },
      { path: '/api/products', fields: '"name":"n","price":"1.00","stock":1,', admin: true },
      { path: `/api/products/${productId}`, method: 'patch' as const, fields: '"restock":1,', admin: true },
      { path: '/api/payments/webhook', fields: '"idempotency_key":"deep","order_id":1,"status":"success",', webhook: true },
    ];
    // 8000 levels is what 16 KiB can carry; an escape (`\u0061`) takes the parse that looks for forbidden keys.
    for (const [levels, inner] of [
      [33, ''],
      [3000, ''],
      [8000, ''],
      [3000, '"\\u0061"'],
    ] as const) {
      for (const r of routes) {
        const raw = nested(levels, r.fields, inner);
        const res = r.webhook
          ? await sendWebhook(t, raw)
          : await t
              .http()
              [r.method ?? 'post'](r.path)
              .set('Content-Type', 'application/json')
              .set(r.admin ? { Authorization: 'Bearer bad-input-admin' } : {})
              .set(r.key ? { 'Idempotency-Key': `deep-${levels}` } : {})
              .send(raw);
        const label = { path: r.path, levels, inner };
        expect({ ...label, status: res.status, body: res.body as unknown }).toEqual({
          ...label,
          status: 400,
          body: { statusCode: 400, error: 'validation_failed', message: expect.any(String), details: [tooDeep] },
        });
      }
    }
    // 32 levels is an ordinary body: its unknown field is refused as such.
    const ok = await t
      .http()
      .post('/api/holds')
      .set('Content-Type', 'application/json')
      .send(nested(32, `"product_id":${productId},"qty":1,`));
    expect({ status: ok.status, details: ok.body.details as unknown }).toEqual({
      status: 400,
      details: [{ field: 'x', problem: 'property x should not exist' }],
    });
    expect(await state()).toEqual(before);
    // Refused before the key was looked at, so not stored: the key then runs as new.
    const fresh = await t.http().post('/api/holds').set('Idempotency-Key', 'deep-8000').send({ product_id: productId, qty: 1 }).expect(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
  });

  it('refuses a body that is not UTF-8 as invalid_json on every body route, never storing replacement characters', async () => {
    const before = await state();
    // A Latin-1 é, a lone 0xFF, an encoded surrogate (ED A0 80), an overlong slash (C0 AF), a cut sequence.
    const bads = ['e9', 'ff', 'eda080', 'c0af', 'e282'].map((hex) => Buffer.from(hex, 'hex'));
    const wrap = (prefix: string, bad: Buffer, suffix: string) => Buffer.concat([Buffer.from(prefix), bad, Buffer.from(suffix)]);
    for (const bad of bads) {
      const bodies = [
        { path: '/api/holds', body: wrap(`{"product_id":${productId},"qty":1,"n":"`, bad, '"}') },
        { path: '/api/orders', body: wrap(`{"hold_id":${holdId},"n":"`, bad, '"}') },
        { path: '/api/products', body: wrap('{"name":"caf', bad, '","price":"1.00","stock":1}'), admin: true },
      ];
      for (const b of bodies) {
        const res = await t
          .http()
          .post(b.path)
          .set('Content-Type', 'application/json')
          .set(b.admin ? { Authorization: 'Bearer bad-input-admin' } : {})
          .serialize(asIs)
          .send(b.body);
        const label = { path: b.path, bad: bad.toString('hex') };
        expect({ ...label, status: res.status, error: res.body.error as unknown }).toEqual({ ...label, status: 400, error: 'invalid_json' });
      }
      // Signed as sent: the signature passes, the body is still not JSON text.
      const hook = await sendWebhook(t, wrap('{"idempotency_key":"utf8-', bad, '","order_id":1,"status":"success"}'));
      expect({ status: hook.status, error: hook.body.error as unknown }).toEqual({ status: 400, error: 'invalid_json' });
    }
    expect(await state()).toEqual(before);
    // Well-formed UTF-8 of every length is read as sent.
    const named = await t
      .http()
      .post('/api/products')
      .set({ Authorization: 'Bearer bad-input-admin', 'Content-Type': 'application/json' })
      .serialize(asIs)
      .send(Buffer.from('{"name":"café ü € 𝄞","price":"1.00","stock":1}', 'utf8'))
      .expect(201);
    expect(named.body.name).toBe('café ü € 𝄞');
  });

  it('reads a key given twice with its last value, and an Idempotency-Key compares the body as read', async () => {
    const first = await t
      .http()
      .post('/api/holds')
      .set({ 'Content-Type': 'application/json', 'Idempotency-Key': 'twice-1' })
      .send(`{"product_id":${productId},"qty":5,"qty":2}`)
      .expect(201);
    expect(first.body.qty).toBe(2);
    const replay = await t.http().post('/api/holds').set('Idempotency-Key', 'twice-1').send({ product_id: productId, qty: 2 }).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
  });

  it('gives every response an X-Request-Id: the client one when well-formed, a new one otherwise', async () => {
    const own = await t.http().get(`/api/products/${productId}`).set('X-Request-Id', 'abc-123_x.y');
    expect(own.headers['x-request-id']).toBe('abc-123_x.y');
    const bad = await t.http().get(`/api/products/${productId}`).set('X-Request-Id', 'has spaces and ünïcode');
    expect(bad.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    expect(bad.headers['x-request-id']).not.toBe('has spaces and ünïcode');
    const long = await t.http().get(`/api/products/${productId}`).set('X-Request-Id', 'a'.repeat(129));
    expect(long.headers['x-request-id']).not.toBe('a'.repeat(129));
    const none = await t.http().get('/nope');
    expect(none.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  });

  it('the pages and /docs assets never answer 500 to Range or conditional headers: on a page a Range is ignored, a failed If-Match or If-Unmodified-Since is 412 bad_request', async () => {
    const whole = await t.http().get('/style.css').expect(200);
    const size = Buffer.byteLength(whole.text);
    // Beyond the end, reversed, not bytes at all: each was a 500 internal_error; a Range is now ignored.
    for (const range of [`bytes=${size + 100}-${size + 200}`, `bytes=${size}-`, 'bytes=10-5', 'bytes=abc', 'bytes=0-9']) {
      for (const method of ['get', 'head'] as const) {
        const res = await t.http()[method]('/style.css').set('Range', range);
        expect({ range, method, status: res.status, type: res.headers['content-type'], length: res.headers['content-length'] }).toEqual({
          range,
          method,
          status: 200,
          type: 'text/css; charset=utf-8',
          length: String(size),
        });
        expect(res.headers['content-range']).toBeUndefined();
        if (method === 'get') expect(res.text).toBe(whole.text);
      }
    }
    for (const [name, value] of [
      ['If-Match', '"not-this-one"'],
      ['If-Unmodified-Since', 'Mon, 01 Jan 1990 00:00:00 GMT'],
    ]) {
      const res = await t.http().get('/style.css').set(name, value).set('X-Request-Id', 'page-precondition');
      expect({ name, status: res.status, body: res.body as unknown }).toEqual({
        name,
        status: 412,
        body: { statusCode: 412, error: 'bad_request', message: expect.any(String) },
      });
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['x-request-id']).toBe('page-precondition');
    }
    // The conditional GET a browser sends when it revalidates its copy still works.
    await t.http().get('/style.css').set('If-None-Match', whole.headers.etag).expect(304);
    // The OpenAPI UI's assets keep their ranges (206); one past the end is 416 bad_request, not 500.
    await t.http().get('/docs/swagger-ui.css').set('Range', 'bytes=0-3').expect(206);
    const past = await t.http().get('/docs/swagger-ui.css').set('Range', 'bytes=99999999-');
    expect({ status: past.status, body: past.body as unknown }).toEqual({
      status: 416,
      body: { statusCode: 416, error: 'bad_request', message: expect.any(String) },
    });
  });

  it('the answers outside the contract have the forms docs/API.md gives them, and are not counted in /metrics', async () => {
    const { port } = new URL(t.url);
    /** Writes `raw` on a new connection and returns everything the service sends until it closes it. */
    const exchange = (raw: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(raw));
        let got = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (got += chunk));
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
      });
    const total = async () =>
      (await t.http().get('/metrics').expect(200)).text
        .split('\n')
        .filter((l) => l.startsWith('http_requests_total{') && !l.includes('route="/metrics"'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    const before = await total();
    const clientError = '{"error":"Bad Request","message":"Client Error","statusCode":400}';
    // Bytes that are not HTTP, and bytes after a body longer than its Content-Length.
    for (const raw of [
      'HELLO\r\n\r\n',
      `POST /api/holds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}\u0000\u0001junk`,
    ]) {
      const got = await exchange(raw);
      expect(got).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(got.endsWith(`\r\n\r\n${clientError}`)).toBe(true);
      expect(got.toLowerCase()).not.toContain('x-request-id');
    }
    // Request headers over 16 KiB.
    const big = await exchange(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(big).toContain('"error":"Request Header Fields Too Large"');
    // An HTTP/1.1 request without Host (RFC 9112 requires it): Node answers 400 with no body.
    const hostless = await exchange('GET /health HTTP/1.1\r\n\r\n');
    expect(hostless).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(hostless).toMatch(/\r\nConnection: close\r\n/i);
    expect(hostless.toLowerCase()).not.toContain('x-request-id');
    expect(hostless.slice(hostless.indexOf('\r\n\r\n') + 4)).toMatch(/^(0\r\n\r\n)?$/);
    expect(await total()).toBe(before);
  });

  it('accepts application/json with a charset', async () => {
    await t
      .http()
      .post('/api/holds')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ product_id: productId, qty: 1 }))
      .expect(201);
  });
});
