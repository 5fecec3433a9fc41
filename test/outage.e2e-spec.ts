import { factories } from './factories';
import { TcpProxy } from './helpers/tcp-proxy';
import { captureLogs, connectTestDb, startTestApp, TEST_ENV, TestApp } from './helpers/test-app';
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

describe('the database stops answering on connections already open: every query gives up after DB_QUERY_TIMEOUT_MS', () => {
  const proxy = new TcpProxy(TEST_ENV.DB_HOST, Number(TEST_ENV.DB_PORT));
  const QUERY_TIMEOUT_MS = 2000;
  // Generous for a noisy 2-core machine: the bound plus 3 s, never a tight timing.
  const ANSWERED_WITHIN_MS = QUERY_TIMEOUT_MS + 3000;
  const DB_NAME = `${DB}_stalled`;
  const logs = captureLogs();
  let t: TestApp;
  let productId: number;

  beforeAll(async () => {
    await proxy.up();
    t = await startTestApp(
      DB_NAME,
      {
        DB_PORT: String(proxy.port),
        DB_CONNECT_TIMEOUT_MS: '1000',
        DB_LOCK_WAIT_TIMEOUT_SECONDS: '1',
        DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        DB_POOL_SIZE: '4',
        AVAILABILITY_CACHE_TTL_MS: '0',
        LOG_LEVEL: 'error',
      },
      { logDestination: logs.destination },
    );
    productId = (await factories(t.dataSource).makeProduct({ stock: 10 })).id;
  });
  afterAll(async () => {
    proxy.resume();
    await t.close();
    await proxy.down();
  });

  async function holdRows(): Promise<number> {
    const db = await connectTestDb(DB_NAME);
    try {
      const [rows] = await db.query('SELECT COUNT(*) AS n FROM holds WHERE product_id = ?', [productId]);
      return Number((rows as Array<{ n: number | string }>)[0].n);
    } finally {
      await db.end();
    }
  }

  it('a read that misses the cache, a hold and /health answer 503 with Retry-After: 1 within about the bound; then the same requests succeed without a restart, nothing granted twice or lost', async () => {
    // Open and pool connections: several requests at once, then one hold granted.
    await Promise.all(Array.from({ length: 4 }, () => t.http().get(`/api/products/${productId}`).expect(200)));
    await t.http().post('/api/holds').send({ product_id: productId, qty: 1 }).expect(201);

    proxy.stall();
    const started = Date.now();
    const answer = (r: { status: number; headers: Record<string, string>; body: unknown }) => ({
      status: r.status,
      retryAfter: r.headers['retry-after'],
      error: (r.body as { error?: string }).error,
      ms: Date.now() - started,
    });
    const [read, hold, health] = await Promise.all([
      t.http().get(`/api/products/${productId}`).timeout(ANSWERED_WITHIN_MS).then(answer),
      t.http().post('/api/holds').send({ product_id: productId, qty: 1 }).timeout(ANSWERED_WITHIN_MS).then(answer),
      t.http().get('/health').timeout(ANSWERED_WITHIN_MS).then(answer),
    ]);
    for (const a of [read, hold, health]) {
      expect({ ...a, ms: undefined }).toEqual({ status: 503, retryAfter: '1', error: 'unavailable', ms: undefined });
      expect(a.ms).toBeLessThan(ANSWERED_WITHIN_MS);
    }

    proxy.resume();
    await pollUntil(
      'the service answers /health again',
      async () => (await t.http().get('/health')).status,
      (status) => status === 200,
    );
    await t.http().get(`/api/products/${productId}`).expect(200);
    await t.http().post('/api/holds').send({ product_id: productId, qty: 1 }).expect(201);
    // The hold that got 503 was not granted (its statements never reached the database, and the
    // connection they were on was closed, which rolled its transaction back): two holds, two units.
    expect(await holdRows()).toBe(2);
    await t
      .http()
      .get(`/api/products/${productId}`)
      .expect(200)
      .expect((r) => expect(r.body).toMatchObject({ stock: 10, available: 8 }));
  });

  it('a new connection whose session set-up gets no answer is thrown away after the bound: the request waiting behind the set-up is 503, and the next connection works', async () => {
    const pool = (t.dataSource.driver as unknown as { pool: { _freeConnections: { length: number } } }).pool;
    // Every pooled connection is cut, and every one opened from now on hangs after its handshake
    // (the expiry job's too), so the next request waits behind the set-up of a new one.
    proxy.stallCommandsOfNewConnections();
    await proxy.down();
    await proxy.up();
    await pollUntil(
      'the pool has let go of the cut connections',
      () => pool._freeConnections.length,
      (n) => n === 0,
    );
    const setupFailures = logs.events('db.session_setup_failed').length;
    const started = Date.now();
    const read = await t.http().get(`/api/products/${productId}`).timeout(ANSWERED_WITHIN_MS);
    expect({ status: read.status, retryAfter: read.headers['retry-after'], error: read.body.error }).toEqual({
      status: 503,
      retryAfter: '1',
      error: 'unavailable',
    });
    expect(Date.now() - started).toBeLessThan(ANSWERED_WITHIN_MS);
    expect(logs.events('db.session_setup_failed').length).toBeGreaterThan(setupFailures);

    proxy.resume();
    await pollUntil(
      'a read succeeds on a new connection',
      async () => (await t.http().get(`/api/products/${productId}`)).status,
      (status) => status === 200,
    );
  });

  it('a row-lock wait shorter than the bound still ends as a lock-wait timeout, retried, then 503 "heavy contention", not as a query timeout', async () => {
    const blocker = await connectTestDb(DB_NAME);
    try {
      await blocker.beginTransaction();
      await blocker.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [productId]);
      const res = await t.http().post('/api/holds').send({ product_id: productId, qty: 1 });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'unavailable', message: 'The request met heavy contention; try again.' });
    } finally {
      await blocker.rollback();
      await blocker.end();
    }
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^tx_retries_total\{reason="lock_wait_timeout"\} 3$/m);
    await t.http().post('/api/holds').send({ product_id: productId, qty: 1 }).expect(201);
  });
});
