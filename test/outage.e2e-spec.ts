import { factories } from './factories';
import { TcpProxy } from './helpers/tcp-proxy';
import { startTestApp, TEST_ENV, TestApp } from './helpers/test-app';

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
