import { factories } from './factories';
import { TcpProxy } from './helpers/tcp-proxy';
import { startTestApp, TEST_ENV, TestApp } from './helpers/test-app';
import { pollUntil } from './helpers/wait';

const DB = 'fs_test_outage';

describe('database outage: fail fast with 503, recover by itself', () => {
  const proxy = new TcpProxy(TEST_ENV.DB_HOST, Number(TEST_ENV.DB_PORT));
  let t: TestApp;
  let productId: number;

  beforeAll(async () => {
    await proxy.up();
    t = await startTestApp(DB, { DB_PORT: String(proxy.port), DB_CONNECT_TIMEOUT_MS: '1000', AVAILABILITY_CACHE_TTL_MS: '0' });
    productId = (await factories(t.dataSource).makeProduct({ stock: 10 })).id;
    await t.http().post('/api/holds').send({ product_id: productId, qty: 1 }).expect(201);
  });
  afterAll(async () => {
    await t.close();
    await proxy.down();
  });

  async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
    const started = Date.now();
    const result = await work();
    return { result, ms: Date.now() - started };
  }

  it('answers 503 unavailable with Retry-After, within seconds, while the database is gone; then recovers without a restart', async () => {
    await proxy.down();

    const read = await timed(() => t.http().get(`/api/products/${productId}`));
    expect(read.result.status).toBe(503);
    expect(read.result.body).toMatchObject({ statusCode: 503, error: 'unavailable' });
    expect(read.result.headers['retry-after']).toBeDefined();
    expect(read.ms).toBeLessThan(3000);

    const holds = await timed(() => Promise.all(Array.from({ length: 10 }, () => t.http().post('/api/holds').send({ product_id: productId, qty: 1 }))));
    for (const r of holds.result) {
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ error: 'unavailable' });
      expect(r.headers['retry-after']).toBeDefined();
      expect(JSON.stringify(r.body)).not.toMatch(/ECONN|connect|127\.0\.0\.1/);
    }
    expect(holds.ms).toBeLessThan(3000);

    const health = await timed(() => t.http().get('/health'));
    expect(health.result.status).toBe(503);
    expect(health.result.body).toEqual({ statusCode: 503, error: 'unavailable', message: expect.any(String), db: 'down' });
    expect(health.result.headers['retry-after']).toBeDefined();
    expect(health.ms).toBeLessThan(3000);
    await t.http().get('/metrics').expect(200);

    await proxy.up();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      status = (await t.http().get('/health')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    await t.http().get(`/api/products/${productId}`).expect(200);
    await t.http().post('/api/holds').send({ product_id: productId, qty: 1 }).expect(201);
    // Nothing was half-done during the outage: two holds, two units reserved.
    await t
      .http()
      .get(`/api/products/${productId}`)
      .expect(200)
      .expect((r) => expect(r.body).toMatchObject({ stock: 10, available: 8 }));
  });
});

describe('database unreachable with connections that never complete: every request waiting for one is 503 within DB_CONNECT_TIMEOUT_MS', () => {
  const proxy = new TcpProxy(TEST_ENV.DB_HOST, Number(TEST_ENV.DB_PORT));
  const CONNECT_TIMEOUT_MS = 500;
  let t: TestApp;

  beforeAll(async () => {
    await proxy.up();
    t = await startTestApp(`${DB}_blackhole`, {
      DB_PORT: String(proxy.port),
      DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DB_POOL_SIZE: '2',
      AVAILABILITY_CACHE_TTL_MS: '0',
    });
  });
  afterAll(async () => {
    await t.close();
    await proxy.down();
  });

  it("20 reads at once with a pool of 2: none waits for the others' connection attempts; then it recovers by itself", async () => {
    // Cut every open connection, then accept new ones without ever answering (a database behind a
    // network that drops its packets): each new connection gives up after DB_CONNECT_TIMEOUT_MS.
    await proxy.down();
    await proxy.up();
    proxy.stall();
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        t
          .http()
          .get('/api/products')
          .then((r) => ({ status: r.status, retryAfter: r.headers['retry-after'], error: (r.body as { error?: string }).error, ms: Date.now() - started })),
      ),
    );
    for (const a of answers) expect({ ...a, ms: undefined }).toEqual({ status: 503, retryAfter: '1', error: 'unavailable', ms: undefined });
    // Two connection attempts at a time, one waiting request served per failed attempt, would
    // answer the last of 20 after about 10 × DB_CONNECT_TIMEOUT_MS; each waits at most its own.
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(3 * CONNECT_TIMEOUT_MS);

    await proxy.down();
    proxy.resume();
    await proxy.up();
    await pollUntil(
      'the service reads the database again',
      async () => (await t.http().get('/api/products')).status,
      (status) => status === 200,
    );
  });
});
