import { createClient } from '@redis/client';
import { factories } from './factories';
import { countStatements } from './helpers/statements';
import { startTestApp, TestApp, testDbName } from './helpers/test-app';
import { freePort } from './helpers/service-process';
import { TcpProxy } from './helpers/tcp-proxy';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PRODUCT_READ = /FROM products p/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function redisKeys(dbName: string): Promise<string[]> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    return await client.keys(`flash-sale::${testDbName(dbName)}:*`);
  } finally {
    await client.close();
  }
}

/** Drops this database's keys from the shared Redis, so an earlier run's entries cannot answer. */
async function clearRedisKeys(dbName: string): Promise<void> {
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    const keys = await client.keys(`flash-sale::${testDbName(dbName)}:*`);
    if (keys.length > 0) await client.del(keys);
  } finally {
    await client.close();
  }
}

describe.each([
  ['in-process', 'fs_test_cache_memory', undefined],
  ['Redis', 'fs_test_cache_redis', REDIS_URL],
])('availability cache (%s store)', (_store, DB, redisUrl) => {
  const env = (ttl: number): Record<string, string> => ({
    AVAILABILITY_CACHE_TTL_MS: String(ttl),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
  });
  let apps: TestApp[] = [];

  afterEach(async () => {
    await Promise.all(apps.map((a) => a.close()));
    apps = [];
  });

  /** Each test starts on a new database whose ids start at 1 again: drop the old entries too. */
  async function start(ttl: number): Promise<TestApp> {
    if (redisUrl) await clearRedisKeys(DB);
    const t = await startTestApp(DB, env(ttl));
    apps.push(t);
    return t;
  }
  const available = async (t: TestApp, id: number) =>
    (await t.http().get(`/api/products/${id}`).expect(200)).body as { stock: number; available: number };

  it('serves a cached read until the TTL has passed, then the truth', async () => {
    const t = await start(400);
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    await expect(available(t, p.id)).resolves.toMatchObject({ stock: 10, available: 10 });
    // A change the application did not make (another shop tool writing the table) is only
    // picked up when the entry expires.
    await t.dataSource.query('UPDATE products SET reserved = 4 WHERE id = ?', [p.id]);
    await expect(available(t, p.id)).resolves.toMatchObject({ available: 10 });
    await sleep(450);
    await expect(available(t, p.id)).resolves.toMatchObject({ stock: 10, available: 6 });
  });

  it('refreshes the entry right after a hold commits, long before a long TTL', async () => {
    const t = await start(30_000);
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    await expect(available(t, p.id)).resolves.toMatchObject({ available: 10 });
    await t.http().post('/api/holds').send({ product_id: p.id, qty: 3 }).expect(201);
    const started = Date.now();
    let seen = 10;
    while (seen !== 7 && Date.now() - started < 2000) {
      const body = await available(t, p.id);
      expect([10, 7]).toContain(body.available);
      seen = body.available;
      if (seen !== 7) await sleep(10);
    }
    expect(seen).toBe(7);
    expect(Date.now() - started).toBeLessThan(1000);
    const list = await t.http().get('/api/products').expect(200);
    expect(list.body.data.find((x: { id: number }) => x.id === p.id)).toMatchObject({ available: 7 });
  });

  it('with TTL 0 every read is the truth at once', async () => {
    const t = await start(0);
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    await expect(available(t, p.id)).resolves.toMatchObject({ available: 10 });
    await t.http().post('/api/holds').send({ product_id: p.id, qty: 2 }).expect(201);
    await expect(available(t, p.id)).resolves.toMatchObject({ available: 8 });
    await t.dataSource.query('UPDATE products SET reserved = 5 WHERE id = ?', [p.id]);
    await expect(available(t, p.id)).resolves.toMatchObject({ available: 5 });
  });

  it('500 concurrent reads of a cold product make at most a handful of database reads', async () => {
    const t = await start(5_000);
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const { result, statements } = await countStatements(
      t.dataSource,
      () => Promise.all(Array.from({ length: 500 }, () => t.http().get(`/api/products/${p.id}`))),
      PRODUCT_READ,
    );
    for (const r of result) expect(r.status).toBe(200);
    expect(statements.length).toBeGreaterThanOrEqual(1);
    expect(statements.length).toBeLessThanOrEqual(3);
  });

  it('never shows availability outside 0..stock during a burst of holds', async () => {
    const t = await start(1_000);
    const p = await factories(t.dataSource).makeProduct({ stock: 20 });
    const reads: Array<{ stock: number; available: number }> = [];
    const readers = (async () => {
      for (let i = 0; i < 40; i++) {
        reads.push(...(await Promise.all(Array.from({ length: 5 }, () => available(t, p.id)))));
      }
    })();
    const holds = await Promise.all(Array.from({ length: 60 }, () => t.http().post('/api/holds').send({ product_id: p.id, qty: 1 })));
    await readers;
    expect(holds.filter((r) => r.status === 201)).toHaveLength(20);
    for (const r of reads) {
      expect(r.stock).toBe(20);
      expect(r.available).toBeGreaterThanOrEqual(0);
      expect(r.available).toBeLessThanOrEqual(20);
    }
  });
});

describe('availability cache with Redis unreachable', () => {
  it('answers every read from the database and keeps working', async () => {
    const port = await freePort();
    const t = await startTestApp('fs_test_cache_redis_down', { AVAILABILITY_CACHE_TTL_MS: '1000', REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      const p = await factories(t.dataSource).makeProduct({ stock: 10 });
      const reads = await Promise.all(Array.from({ length: 20 }, () => t.http().get(`/api/products/${p.id}`)));
      for (const r of reads) expect(r.body).toMatchObject({ id: p.id, stock: 10, available: 10 });
      await t.http().post('/api/holds').send({ product_id: p.id, qty: 4 }).expect(201);
      // Nothing is cached, so the hold shows at once.
      await t.http().get(`/api/products/${p.id}`).expect(200).expect((r) => expect(r.body.available).toBe(6));
      await t.http().get('/api/products').expect(200);
    } finally {
      await t.close();
    }
  });
});

/** An application whose Redis (entries cached for a minute) is reached through a relay the test controls. */
async function startBehindRedisRelay(dbName: string): Promise<{ t: TestApp; proxy: TcpProxy }> {
  const url = new URL(REDIS_URL);
  const proxy = new TcpProxy(url.hostname, Number(url.port || 6379));
  await proxy.up();
  await clearRedisKeys(dbName);
  const t = await startTestApp(dbName, { AVAILABILITY_CACHE_TTL_MS: '60000', REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
  return { t, proxy };
}

describe('availability cache when Redis hangs', () => {
  it('gives up on Redis after a short timeout and answers from the database', async () => {
    const DB = 'fs_test_cache_redis_hung';
    const { t, proxy } = await startBehindRedisRelay(DB);
    try {
      const p = await factories(t.dataSource).makeProduct({ stock: 10 });
      await t.http().get(`/api/products/${p.id}`).expect(200);
      // Connected, but from now on Redis answers nothing.
      proxy.stall();
      await t.dataSource.query('UPDATE products SET reserved = 1 WHERE id = ?', [p.id]);
      const started = Date.now();
      const reads = await Promise.all(Array.from({ length: 10 }, () => t.http().get(`/api/products/${p.id}`)));
      expect(Date.now() - started).toBeLessThan(2000);
      for (const r of reads) expect(r.body).toMatchObject({ stock: 10, available: 9 });
    } finally {
      await t.close();
      await proxy.down();
    }
  });
});

describe('availability cache when Redis goes away while serving', () => {
  it('falls back to the database at once, and uses Redis again when it is back', async () => {
    const DB = 'fs_test_cache_redis_gone';
    const { t, proxy } = await startBehindRedisRelay(DB);
    try {
      const p = await factories(t.dataSource).makeProduct({ stock: 10 });
      const read = () => t.http().get(`/api/products/${p.id}`).expect(200);
      await read();
      // Cached for a minute: a change behind the application's back does not show.
      await t.dataSource.query('UPDATE products SET reserved = 1 WHERE id = ?', [p.id]);
      await read().expect((r) => expect(r.body.available).toBe(10));

      await proxy.down();
      const started = Date.now();
      const during = await Promise.all(Array.from({ length: 20 }, () => read()));
      expect(Date.now() - started).toBeLessThan(2000);
      for (const r of during) expect(r.body).toMatchObject({ stock: 10, available: 9 });
      await t.http().post('/api/holds').send({ product_id: p.id, qty: 2 }).expect(201);
      await read().expect((r) => expect(r.body.available).toBe(7));

      await proxy.up();
      // Once the client has reconnected, reads store their entries in Redis again.
      const deadline = Date.now() + 10_000;
      let cached = false;
      while (!cached && Date.now() < deadline) {
        await clearRedisKeys(DB);
        await read().expect((r) => expect(r.body.available).toBe(7));
        cached = (await redisKeys(DB)).length > 0;
        if (!cached) await sleep(200);
      }
      expect(cached).toBe(true);
    } finally {
      await t.close();
      await proxy.down();
    }
  });
});
