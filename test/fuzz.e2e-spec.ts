import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { sign } from 'jsonwebtoken';
import { RSA } from './helpers/buyer-tokens';
import { signBody } from '../src/http/signature';
import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_fuzz';
const SECRET = 'fuzz-secret';
const ADMIN_TOKEN = 'fuzz-admin-token';

/** Every `error` code the contract knows. */
const CONTRACT_ERRORS = new Set([
  'validation_failed',
  'invalid_json',
  'invalid_signature',
  'unauthorized',
  'admin_disabled',
  'product_not_found',
  'hold_not_found',
  'order_not_found',
  'not_found',
  'insufficient_stock',
  'hold_already_used',
  'idempotency_key_in_flight',
  'hold_expired',
  'payload_too_large',
  'unsupported_media_type',
  'idempotency_key_reused',
  'buyer_limit_reached',
  'rate_limited',
]);

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

interface Probe {
  method: Method;
  path: string;
  contentType: string | undefined;
  body: string | undefined;
  headers: Record<string, string>;
}

const id = fc.oneof(
  fc.integer({ min: 1, max: 12 }).map(String),
  fc.constantFrom('0', '-1', '1.5', 'abc', '99999999999999999999', '9007199254740992', '01', '1e3', '%20', 'null', ''),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);

const jsonValue = fc.oneof(
  fc.integer({ min: -3, max: 15 }),
  fc.double(),
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  fc.constant(Number.MAX_SAFE_INTEGER + 2),
);

/** Bodies near the real shapes (so some succeed and move stock) and far from them. */
const body = fc.oneof(
  fc
    .record({ product_id: fc.oneof(fc.integer({ min: 1, max: 4 }), jsonValue), qty: fc.oneof(fc.integer({ min: 1, max: 12 }), jsonValue) })
    .map((o) => JSON.stringify(o)),
  fc.record({ hold_id: fc.oneof(fc.integer({ min: 1, max: 60 }), jsonValue) }).map((o) => JSON.stringify(o)),
  fc
    .record(
      {
        idempotency_key: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), jsonValue),
        order_id: fc.oneof(fc.integer({ min: 1, max: 40 }), jsonValue),
        status: fc.oneof(fc.constantFrom('success', 'failure'), jsonValue),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc
    .record(
      {
        name: fc.oneof(fc.string({ maxLength: 8 }), jsonValue),
        price: fc.oneof(fc.constantFrom('1.00', '9.99'), jsonValue),
        stock: fc.oneof(fc.integer({ min: 0, max: 30 }), jsonValue),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  fc.record({ restock: fc.oneof(fc.integer({ min: 1, max: 5 }), jsonValue) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 }).map((o) => JSON.stringify(o)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '{', '[]', 'null', '"x"', '{"__proto__":{"a":1}}', '{"constructor":{}}', 'x'.repeat(17_000)),
);

const route = fc.oneof(
  id.map((i) => ({ method: 'GET' as const, path: `/api/products/${i}` })),
  id.map((i) => ({ method: 'GET' as const, path: `/api/holds/${i}` })),
  id.map((i) => ({ method: 'GET' as const, path: `/api/orders/${i}` })),
  fc.constant({ method: 'GET' as const, path: '/api/products' }),
  fc
    .dictionary(
      fc.constantFrom('status', 'product_id', 'limit', 'after_id', 'page', 'refund_due'),
      fc.oneof(
        fc.string({ maxLength: 6 }),
        fc.integer({ min: -2, max: 250 }).map(String),
        fc.constantFrom('pending', 'paid', 'cancelled', 'expired', 'true', 'false'),
      ),
      { maxKeys: 4 },
    )
    .map((q) => ({ method: 'GET' as const, path: `/api/orders?${new URLSearchParams(q).toString()}` })),
  fc.constant({ method: 'POST' as const, path: '/api/products' }),
  id.map((i) => ({ method: 'PATCH' as const, path: `/api/products/${i}` })),
  fc.constant({ method: 'GET' as const, path: '/health' }),
  fc.constant({ method: 'POST' as const, path: '/api/holds' }),
  fc.constant({ method: 'POST' as const, path: '/api/orders' }),
  fc.constant({ method: 'POST' as const, path: '/api/payments/webhook' }),
  fc
    .constantFrom<Method>('GET', 'POST', 'PATCH', 'DELETE', 'PUT')
    .chain((method) => fc.constantFrom('/api/holds', '/api/unknown', '/api/products/1/x', '/', '/api').map((path) => ({ method, path }))),
);

const randomProbe: fc.Arbitrary<Probe> = fc
  .record({
    route,
    contentType: fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', 'multipart/form-data'),
    body: fc.option(body, { nil: undefined }),
    requestId: fc.option(fc.string({ maxLength: 140 }), { nil: undefined }),
    signature: fc.constantFrom('good', 'bad', 'none'),
    admin: fc.constantFrom('good', 'bad', 'none'),
  })
  .map(({ route: r, contentType, body: b, requestId, signature, admin }) => {
    const headers: Record<string, string> = {};
    if (admin !== 'none') headers.authorization = `Bearer ${admin === 'good' ? ADMIN_TOKEN : 'wrong'}`;
    if (requestId !== undefined && /^[\x20-\x7e]*$/.test(requestId)) headers['x-request-id'] = requestId;
    if (b !== undefined && signature === 'good') headers['x-signature'] = signBody(b, SECRET);
    if (signature === 'bad') headers['x-signature'] = 'sha256=' + 'ab'.repeat(32);
    return { method: r.method, path: r.path, contentType, body: r.method === 'GET' ? undefined : b, headers };
  });

const json = (method: Method, path: string, b: unknown, headers: Record<string, string> = {}): Probe => ({
  method,
  path,
  contentType: 'application/json',
  body: JSON.stringify(b),
  headers,
});

/** Holds granted during the run, newest last: plausible orders are made from them. */
const grantedHolds: number[] = [];

/** Well-formed requests with mostly valid values, so that the state really moves while fuzzing. */
const plausibleProbe: fc.Arbitrary<Probe> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ product_id: fc.integer({ min: 1, max: 5 }), qty: fc.integer({ min: 0, max: 11 }) }).map((b) => json('POST', '/api/holds', b)),
  },
  {
    weight: 2,
    arbitrary: fc.nat({ max: 7 }).map((back) => json('POST', '/api/orders', { hold_id: grantedHolds[grantedHolds.length - 1 - back] ?? back + 1 })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        idempotency_key: fc.string({ minLength: 1, maxLength: 6 }),
        order_id: fc.integer({ min: 1, max: 50 }),
        status: fc.constantFrom('success', 'failure'),
      })
      .map((b) => json('POST', '/api/payments/webhook', b, { 'x-signature': signBody(JSON.stringify(b), SECRET) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ id: fc.integer({ min: 1, max: 5 }), restock: fc.integer({ min: 1, max: 3 }) })
      .map((b) => json('PATCH', `/api/products/${b.id}`, { restock: b.restock }, { authorization: `Bearer ${ADMIN_TOKEN}` })),
  },
);

const probe: fc.Arbitrary<Probe> = fc.oneof({ weight: 2, arbitrary: plausibleProbe }, { weight: 3, arbitrary: randomProbe });

describe('hostile input, generated: never a 5xx, always the contract error body, stock invariants hold', () => {
  let t: TestApp;
  const initial = new Map<number, number>();

  beforeAll(async () => {
    t = await startTestApp(DB, { WEBHOOK_SECRET: SECRET, ADMIN_TOKEN, AVAILABILITY_CACHE_TTL_MS: '0', HOLD_TTL_SECONDS: '3', ORDER_PAYMENT_TTL_SECONDS: '2' });
    const make = factories(t.dataSource);
    for (const stock of [5, 200, 1, 500]) initial.set((await make.makeProduct({ stock })).id, stock);
  });
  afterAll(() => t.close());

  async function send(p: Probe) {
    const headers: Record<string, string> = { ...p.headers };
    if (p.contentType && p.body !== undefined) headers['content-type'] = p.contentType;
    const res = await fetch(t.url + p.path, { method: p.method, headers, body: p.body });
    const text = await res.text();
    countAdminStock(p, res.status, text);
    if (p.method === 'POST' && p.path === '/api/holds' && res.status === 201) grantedHolds.push((JSON.parse(text) as { id: number }).id);
    return { status: res.status, text, contentType: res.headers.get('content-type') ?? '', requestId: res.headers.get('x-request-id') };
  }

  /** Units the admin routes added: products created and restocked during the run. */
  function countAdminStock(p: Probe, status: number, text: string) {
    if (p.method === 'POST' && p.path === '/api/products' && status === 201) {
      const created = JSON.parse(text) as { id: number; stock: number };
      initial.set(created.id, created.stock);
    }
    if (p.method === 'PATCH' && status === 200) {
      const restocked = JSON.parse(text) as { id: number };
      const units = (JSON.parse(p.body!) as { restock: number }).restock;
      initial.set(restocked.id, initial.get(restocked.id)! + units);
    }
  }

  async function checkInvariants() {
    const rows: Array<{ id: number; stock: number; reserved: number; live: number; pending: number; paid: number; lapsed: number; lapsedOrders: number }> =
      await t.dataSource.query(
        `SELECT p.id, p.stock, p.reserved,
              (SELECT COALESCE(SUM(qty), 0) FROM holds h WHERE h.product_id = p.id AND h.status = 'active') AS live,
              (SELECT COALESCE(SUM(qty), 0) FROM holds h WHERE h.product_id = p.id AND h.status = 'active' AND h.expires_at <= ?) AS lapsed,
              (SELECT COALESCE(SUM(qty), 0) FROM orders o WHERE o.product_id = p.id AND o.status = 'pending') AS pending,
              (SELECT COALESCE(SUM(qty), 0) FROM orders o WHERE o.product_id = p.id AND o.status = 'paid') AS paid,
              (SELECT COALESCE(SUM(qty), 0) FROM orders o WHERE o.product_id = p.id AND o.status = 'pending' AND o.expires_at <= ?) AS lapsedOrders
         FROM products p`,
        [new Date(), new Date()],
      );
    for (const r of rows) {
      const stock = Number(r.stock);
      const available = stock - Number(r.reserved) + Number(r.lapsed) + Number(r.lapsedOrders);
      expect({ id: r.id, reserved: Number(r.reserved) }).toEqual({ id: r.id, reserved: Number(r.live) + Number(r.pending) });
      expect({ id: r.id, stock }).toEqual({ id: r.id, stock: initial.get(Number(r.id))! - Number(r.paid) });
      expect(available).toBeGreaterThanOrEqual(0);
      expect(available).toBeLessThanOrEqual(stock);
    }
  }

  it('answers 300 generated requests by the contract', async () => {
    await fc.assert(
      fc.asyncProperty(probe, async (p) => {
        const res = await send(p);
        expect(res.status).toBeLessThan(500);
        expect(res.requestId).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
        if (res.status >= 400) {
          expect(res.contentType).toMatch(/^application\/json/);
          const parsed = JSON.parse(res.text) as { statusCode: number; error: string; message: string };
          expect(parsed.statusCode).toBe(res.status);
          expect(CONTRACT_ERRORS.has(parsed.error)).toBe(true);
          expect(typeof parsed.message).toBe('string');
          expect(res.text).not.toMatch(/at .+\(.+:\d+:\d+\)|QueryFailedError|ER_[A-Z_]+|SELECT |INSERT /);
        }
      }),
      { numRuns: 300 },
    );
    await checkInvariants();
    // The run moved real state: holds, orders and settled payments exist.
    const [counts] = await t.dataSource.query(
      `SELECT (SELECT COUNT(*) FROM holds) AS holds, (SELECT COUNT(*) FROM orders) AS orders,
              (SELECT COUNT(*) FROM payment_events WHERE result = 'applied') AS applied`,
    );
    expect(Number(counts.holds)).toBeGreaterThan(10);
    expect(Number(counts.orders)).toBeGreaterThan(3);
    expect(Number(counts.applied)).toBeGreaterThan(0);
  });

  it('keeps the invariants under generated bursts of concurrent requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(probe, { minLength: 10, maxLength: 40 }), async (batch) => {
        const results = await Promise.all(batch.map(send));
        for (const r of results) expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 15 },
    );
    await checkInvariants();
  });
});

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const OTHER_RSA = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const sub = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constant('x'.repeat(256)));

/** Authorization headers no buyer may pass with: malformed, unsigned, signed wrongly, expired, huge. */
const hostileAuthorization: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ maxLength: 64 }).map((t) => `Bearer ${t}`),
  fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map(([x, y, z]) => `Bearer ${x}.${y}.${z}`),
  // alg none, with and without a signature part, any payload
  fc
    .record({ sub, exp: fc.integer({ min: 0, max: 2 ** 40 }) })
    .chain((payload) => fc.constantFrom(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`, `${b64({ alg: 'none' })}.${b64(payload)}`))
    .map((t) => `Bearer ${t}`),
  // HS256 signed with the public key as the HMAC secret (algorithm confusion)
  sub.map((s) => `Bearer ${sign({ sub: s }, RSA.publicKey, { algorithm: 'HS256', expiresIn: 600 })}`),
  // RS256 under another key, or expired past the skew under the right one
  sub.map((s) => `Bearer ${sign({ sub: s }, OTHER_RSA.privateKey, { algorithm: 'RS256', expiresIn: 600 })}`),
  sub.map((s) => `Bearer ${sign({ sub: s }, RSA.privateKey, { algorithm: 'RS256', expiresIn: -60 })}`),
  // huge tokens, short of the 16 KiB header limit
  fc.integer({ min: 4000, max: 15000 }).map((n) => `Bearer ${'a'.repeat(n)}.${'b'.repeat(10)}.${'c'.repeat(10)}`),
  fc
    .integer({ min: 9000, max: 15000 })
    .map((n) => `Bearer ${sign({ sub: 'x', pad: 'p'.repeat(n) }, RSA.privateKey, { algorithm: 'RS256', expiresIn: 600 }).slice(0, 15500)}`),
);

describe('buyer tokens, generated: hostile Authorization headers are all 401 and create nothing', () => {
  let t: TestApp;
  let productId: number;

  beforeAll(async () => {
    t = await startTestApp('fs_test_fuzz_buyers', { BUYER_AUTH: 'jwt', BUYER_JWT_PUBLIC_KEY: RSA.publicKey });
    productId = (await factories(t.dataSource).makeProduct({ stock: 5 })).id;
  });
  afterAll(() => t.close());

  it('answers 200 generated headers on every buyer route with 401 unauthorized', async () => {
    const routes: Array<{ method: string; path: string; body?: string }> = [
      { method: 'POST', path: '/api/holds', body: JSON.stringify({ product_id: productId, qty: 1 }) },
      { method: 'POST', path: '/api/orders', body: JSON.stringify({ hold_id: 1 }) },
      { method: 'GET', path: '/api/holds/1' },
      { method: 'GET', path: '/api/orders/1' },
    ];
    await fc.assert(
      fc.asyncProperty(hostileAuthorization, fc.constantFrom(...routes), async (authorization, route) => {
        const headers: Record<string, string> = { authorization };
        if (route.body) headers['content-type'] = 'application/json';
        const res = await fetch(t.url + route.path, { method: route.method, headers, body: route.body });
        const body = (await res.json()) as { statusCode: number; error: string };
        expect({ status: res.status, error: body.error }).toEqual({ status: 401, error: 'unauthorized' });
      }),
      { numRuns: 200 },
    );
    const [row] = await t.dataSource.query<Array<{ n: string }>>('SELECT COUNT(*) AS n FROM holds');
    expect(Number(row.n)).toBe(0);
  });
});
