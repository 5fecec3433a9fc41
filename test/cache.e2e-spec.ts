import { createClient } from '@redis/client';
import { factories } from './factories';
import { countStatements } from './helpers/statements';
import { startTestApp, TestApp, testDbName } from './helpers/test-app';
import { freePort } from './helpers/service-process';
import { TcpProxy } from './helpers/tcp-proxy';
import { sleep, timed } from './helpers/wait';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PRODUCT_READ = /FROM products p/;

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
  const available = async (t: TestApp, id: number) => (await t.http().get(`/api/products/${id}`).expect(200)).body as { stock: number; available: number };

  it('serves a cached read until the TTL has passed, then the truth', async () => {
    const ttl = 1000;
    const t = await start(ttl);
    const make = factories(t.dataSource);
    // Prime the entry, then change the row behind the application's back (another shop tool
    // writing the table): the change is only picked up when the entry expires. An entry lives the
    // TTL from the moment its database read started, which is after `primed.sent`; so a read
    // answered before primed.sent + TTL must still show the old value. A machine too slow to make
    // that read in time gets another round on a new product.
    let round: { id: number; changedAt: number } | undefined;
    for (let attempt = 1; attempt <= 5 && !round; attempt++) {
      const p = await make.makeProduct({ stock: 10 });
      const primed = await timed(() => available(t, p.id));
      expect(primed.value).toMatchObject({ stock: 10, available: 10 });
      await t.dataSource.query('UPDATE products SET reserved = 4 WHERE id = ?', [p.id]);
      const changedAt = Date.now();
      const stale = await timed(() => available(t, p.id));
      if (stale.done < primed.sent + ttl) {
        expect(stale.value).toMatchObject({ stock: 10, available: 10 });
        round = { id: p.id, changedAt };
      }
    }
    if (!round) throw new Error(`no round of 5 read a product twice within the ${ttl} ms TTL`);
    const { id, changedAt } = round;

    // Every entry holding the old value was read before the change committed (before changedAt),
    // so it is gone by changedAt + TTL: a read sent from then on must show the truth. Until then a
    // read shows the old value or the new one, and once the new one shows it stays.
    for (;;) {
      const read = await timed(() => available(t, id));
      if (read.sent >= changedAt + ttl) expect(read.value).toMatchObject({ stock: 10, available: 6 });
      expect([10, 6]).toContain(read.value.available);
      if (read.value.available === 6) break;
      await sleep(20);
    }
    await expect(available(t, id)).resolves.toMatchObject({ stock: 10, available: 6 });
  });

  it('refreshes the entry right after a hold commits, long before a long TTL', async () => {
    const ttl = 30_000;
    const t = await start(ttl);
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const listed = async () => {
      const list = await t.http().get('/api/products').expect(200);
      return (list.body.data as Array<{ id: number; available: number }>).find((x) => x.id === p.id)?.available;
    };
    // Both entries are cached now, for 30 s from a moment after primedAt.
    const primedAt = Date.now();
    await expect(available(t, p.id)).resolves.toMatchObject({ available: 10 });
    expect(await listed()).toBe(10);
    await t.http().post('/api/holds').send({ product_id: p.id, qty: 3 }).expect(201);
    // Poll until the reads show the hold. A new value seen before primedAt + TTL cannot come from
    // the entries expiring: only the refresh that the hold's commit asked for can have put it there.
    // That instant is also the deadline: past it, seeing 7 would prove nothing.
    const refreshedBy = primedAt + ttl;
    for (const [what, read] of [
      ['GET /api/products/:id', async () => (await available(t, p.id)).available],
      ['GET /api/products', listed],
    ] as const) {
      for (;;) {
        const seen = await timed(read);
        expect([10, 7]).toContain(seen.value);
        if (seen.value === 7) {
          expect(seen.done).toBeLessThan(refreshedBy);
          break;
        }
        if (seen.done >= refreshedBy)
          throw new Error(`${what} still showed the value cached before the hold when its ${ttl} ms TTL ran out: the commit did not refresh it`);
        await sleep(10);
      }
      // Once refreshed, it stays refreshed.
      expect(await read()).toBe(7);
    }
  });

  it('refreshes a later page of the list that shows the product after a hold commits', async () => {
    const ttl = 30_000;
    const t = await start(ttl);
    const make = factories(t.dataSource);
    const first = await make.makeProduct({ stock: 10 });
    await make.makeProduct({ stock: 10 });
    const p = await make.makeProduct({ stock: 10 });
    const path = `/api/products?limit=1&after_id=${first.id + 1}`;
    const listed = async () => {
      const res = await t.http().get(path).expect(200);
      expect((res.body.data as Array<{ id: number }>).map((x) => x.id)).toEqual([p.id]);
      return (res.body.data as Array<{ available: number }>)[0].available;
    };
    const primedAt = Date.now();
    expect(await listed()).toBe(10);
    await t.http().post('/api/holds').send({ product_id: p.id, qty: 4 }).expect(201);
    // As above: a 6 seen before primedAt + TTL can only come from the refresh the commit asked for.
    for (;;) {
      const seen = await timed(listed);
      expect([10, 6]).toContain(seen.value);
      if (seen.value === 6) {
        expect(seen.done).toBeLessThan(primedAt + ttl);
        break;
      }
      if (seen.done >= primedAt + ttl) throw new Error('the page still showed the value cached before the hold when its TTL ran out');
      await sleep(10);
    }
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
      await t
        .http()
        .get(`/api/products/${p.id}`)
        .expect(200)
        .expect((r) => expect(r.body.available).toBe(6));
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
