import Redis from 'ioredis';
import { buyerKeyScope } from '../src/common/buyer';
import { factories } from './factories';
import { BUYER_SECRET, buyerAuth } from './helpers/buyer-tokens';
import { freePort } from './helpers/service-process';
import { startTestApp, TestApp, testDbName } from './helpers/test-app';
import { sleep } from './helpers/wait';
import { sendWebhook } from './helpers/webhook';

const DB = 'fs_test_rate_limit';
const REDIS_URL = 'redis://127.0.0.1:6379';
const ENV = {
  REDIS_URL,
  BUYER_AUTH: 'jwt',
  BUYER_JWT_SECRET: BUYER_SECRET,
  RATE_LIMIT_HOLDS_PER_MINUTE: '3',
  RATE_LIMIT_READS_PER_MINUTE: '5',
  WEBHOOK_SECRET: 'rate-secret',
  AVAILABILITY_CACHE_TTL_MS: '0',
};

/** Counters of an earlier run of this file (a window lasts a minute) would be counted: they go first. */
async function clearCounters(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`*rate:${testDbName(DB)}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

describe('rate limits (@nestjs/throttler, counters in Redis)', () => {
  let a: TestApp;
  let b: TestApp;
  let productId: number;

  beforeAll(async () => {
    await clearCounters();
    a = await startTestApp(DB, ENV);
    b = await startTestApp(DB, ENV, { fresh: false });
    productId = (await factories(a.dataSource).makeProduct({ stock: 1000 })).id;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const hold = (app: TestApp, buyer: string, key?: string) => {
    const req = app.http().post('/api/holds').set('Authorization', buyerAuth(buyer));
    return (key ? req.set('Idempotency-Key', key) : req).send({ product_id: productId, qty: 1 });
  };

  it('refuses the request past the limit with 429 rate_limited and Retry-After across two instances, per buyer', async () => {
    expect((await hold(a, 'alice')).status).toBe(201);
    expect((await hold(b, 'alice')).status).toBe(201);
    expect((await hold(a, 'alice')).status).toBe(201);
    const refused = await hold(b, 'alice');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ statusCode: 429, error: 'rate_limited', message: expect.any(String) as string });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Orders share the holds' limit.
    const order = await a.http().post('/api/orders').set('Authorization', buyerAuth('alice')).send({ hold_id: 1 });
    expect(order.status).toBe(429);
    // Another buyer has a limit of their own.
    expect((await hold(b, 'bob')).status).toBe(201);
    const metrics = await b.http().get('/metrics');
    expect(metrics.text).toMatch(/rate_limited_total\{route="\/api\/holds"\} 1\b/);
  });

  it('never limits the webhook', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => sendWebhook(a, { idempotency_key: `rl-${i}`, order_id: 900000 + i, status: 'success' })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 12 }, () => 202));
  });

  it('serves a stored Idempotency-Key answer even over the limit, and does not count it', async () => {
    const first = await hold(a, 'carol', 'carol-1');
    expect(first.status).toBe(201);
    for (let i = 0; i < 4; i++) {
      const replay = await hold(i % 2 ? a : b, 'carol', 'carol-1');
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
    }
    // Only the first request counted: two more new holds fit in the limit of three.
    expect((await hold(b, 'carol')).status).toBe(201);
    expect((await hold(a, 'carol')).status).toBe(201);
    expect((await hold(b, 'carol')).status).toBe(429);
    const replay = await hold(a, 'carol', 'carol-1');
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
  });

  it("does not let a buyer over the limit through with another buyer's stored key", async () => {
    const first = await hold(a, 'erin', 'erin-1');
    expect(first.status).toBe(201);
    for (let i = 0; i < 3; i++) expect((await hold(b, 'frank')).status).toBe(201);
    const borrowed = await hold(a, 'frank', 'erin-1');
    expect(borrowed.status).toBe(429);
    expect(borrowed.body.error).toBe('rate_limited');
    expect((await hold(b, 'erin', 'erin-1')).headers['idempotent-replayed']).toBe('true');
  });

  it('counts a request whose Idempotency-Key is older than 24 hours (forgotten, not yet purged): it runs as new, so it is no replay', async () => {
    const old = new Date(Date.now() - 25 * 3600 * 1000);
    await a.dataSource.query('INSERT INTO idempotency_keys (scope, idem_key, request_hash, status_code, response_body, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      buyerKeyScope('holds', 'gina'),
      'gina-old',
      'x'.repeat(64),
      201,
      '{"id":1}',
      old,
    ]);
    for (let i = 0; i < 3; i++) expect((await hold(i % 2 ? a : b, 'gina')).status).toBe(201);
    const forgotten = await hold(a, 'gina', 'gina-old');
    expect(forgotten.status).toBe(429);
    expect(forgotten.body.error).toBe('rate_limited');
  });

  it('limits reads per address, from X-Forwarded-For with TRUST_PROXY=true', async () => {
    const proxied = await startTestApp(DB, { TRUST_PROXY: 'true', RATE_LIMIT_READS_PER_MINUTE: '2' }, { fresh: false });
    try {
      const read = (address: string) => proxied.http().get(`/api/products/${productId}`).set('X-Forwarded-For', address);
      expect([(await read('198.51.100.7')).status, (await read('198.51.100.7')).status]).toEqual([200, 200]);
      const refused = await read('198.51.100.7');
      expect(refused.status).toBe(429);
      expect(refused.body.error).toBe('rate_limited');
      expect((await read('198.51.100.8')).status).toBe(200);
      expect((await proxied.http().get('/health')).status).toBe(200);
    } finally {
      await proxied.close();
    }
  });

  it('lets every request through when Redis cannot be reached (the limit must not stop the sale)', async () => {
    const port = await freePort();
    const down = await startTestApp(DB, { ...ENV, REDIS_URL: `redis://127.0.0.1:${port}` }, { fresh: false });
    try {
      // Over the limit of 3 a minute: every one passes, none is counted anywhere.
      for (let i = 0; i < 5; i++) expect((await hold(down, 'carol')).status).toBe(201);
    } finally {
      await down.close();
      // ioredis closed while reconnecting keeps a timer up to its retry delay (2 s at most): wait it
      // out, so the test leaves no handle behind.
      await sleep(2_100);
    }
  });
});
