import { factories } from './factories';
import { countStatements } from './helpers/statements';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_stock_boundary';

describe('holds never oversell (real MariaDB, real HTTP, real concurrency)', () => {
  let t: TestApp;
  let make: ReturnType<typeof factories>;

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' });
    make = factories(t.dataSource);
  });
  afterAll(() => t.close());

  async function product(id: number) {
    const res = await t.http().get(`/api/products/${id}`).expect(200);
    return res.body as { stock: number; available: number };
  }

  it('stock 5, 50 holds of qty 1 at once: exactly 5 granted, 45 refused with available', async () => {
    const p = await make.makeProduct({ stock: 5 });
    const results = await Promise.all(Array.from({ length: 50 }, () => t.http().post('/api/holds').send({ product_id: p.id, qty: 1 })));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(5);
    expect(refused).toHaveLength(45);
    for (const r of refused) expect(r.body).toMatchObject({ statusCode: 409, error: 'insufficient_stock', available: 0 });
    expect(new Set(created.map((r) => r.body.id)).size).toBe(5);
    await expect(product(p.id)).resolves.toMatchObject({ stock: 5, available: 0 });
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM holds WHERE product_id = ?', [p.id]);
    expect(Number(n)).toBe(5);
  });

  it('mixed quantities 1-5 on stock 97, 200 at once: granted units never exceed 97 and none are lost', async () => {
    const p = await make.makeProduct({ stock: 97 });
    const qtys = Array.from({ length: 200 }, (_, i) => (i % 5) + 1);
    const results = await Promise.all(qtys.map((qty) => t.http().post('/api/holds').send({ product_id: p.id, qty })));
    expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const granted = results.filter((r) => r.status === 201).reduce((sum, r) => sum + (r.body.qty as number), 0);
    expect(granted).toBeLessThanOrEqual(97);
    // A refusal means the request asked for more than was left then, and what is left only shrinks.
    const refusedQtys = qtys.filter((_, i) => results[i].status === 409);
    expect(97 - granted).toBeLessThan(Math.min(...refusedQtys));
    const after = await product(p.id);
    expect(after).toMatchObject({ stock: 97, available: 97 - granted });
    const [{ units }] = await t.dataSource.query('SELECT COALESCE(SUM(qty),0) AS units FROM holds WHERE product_id = ?', [p.id]);
    expect(Number(units)).toBe(granted);
  });

  it('grants a burst in batches: fewer row locks than holds, and each answer is its own hold', async () => {
    const p = await make.makeProduct({ stock: 150 });
    const qtys = Array.from({ length: 120 }, (_, i) => (i % 3) + 1);
    const { result: results, statements } = await countStatements(
      t.dataSource,
      () => Promise.all(qtys.map((qty) => t.http().post('/api/holds').send({ product_id: p.id, qty }))),
      /FROM `?products`? .*FOR UPDATE/s,
    );
    const created = results.filter((r) => r.status === 201);
    const granted = created.reduce((sum, r) => sum + (r.body.qty as number), 0);
    expect(granted).toBeLessThanOrEqual(150);
    expect(150 - granted).toBeLessThan(3);
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.length).toBeLessThan(created.length);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(created.length);
    for (const [i, r] of results.entries()) {
      if (r.status !== 201) continue;
      expect(r.body).toMatchObject({ product_id: p.id, qty: qtys[i], status: 'active' });
      const stored = await t.http().get(`/api/holds/${r.body.id}`).expect(200);
      expect(stored.body).toEqual(r.body);
    }
  });

  it('on a server without INSERT … RETURNING (DB_TYPE=mysql) reads the ids of a batch back, each answer its own hold', async () => {
    const mysqlTyped = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0', DB_TYPE: 'mysql' }, { fresh: false });
    try {
      const p = await make.makeProduct({ stock: 150 });
      const qtys = Array.from({ length: 60 }, (_, i) => (i % 3) + 1);
      const { result: results, statements } = await countStatements(
        mysqlTyped.dataSource,
        () => Promise.all(qtys.map((qty) => mysqlTyped.http().post('/api/holds').send({ product_id: p.id, qty }))),
        /INSERT INTO holds|SELECT id FROM holds FORCE INDEX/,
      );
      expect(results.every((r) => r.status === 201)).toBe(true);
      const inserts = statements.filter((q) => q.startsWith('INSERT'));
      expect(inserts.every((q) => !q.includes('RETURNING'))).toBe(true);
      expect(inserts.length).toBeLessThan(results.length);
      expect(statements.some((q) => q.startsWith('SELECT id FROM holds'))).toBe(true);
      expect(new Set(results.map((r) => r.body.id)).size).toBe(results.length);
      const stored: Array<{ id: number; qty: number }> = await t.dataSource.query('SELECT id, qty FROM holds WHERE product_id = ?', [p.id]);
      const qtyById = new Map(stored.map((h) => [Number(h.id), Number(h.qty)]));
      expect(qtyById.size).toBe(results.length);
      for (const [i, r] of results.entries()) expect(qtyById.get(r.body.id as number)).toBe(qtys[i]);
    } finally {
      await mysqlTyped.close();
    }
  });

  it('two application instances on one database still grant exactly the stock', async () => {
    const second = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' }, { fresh: false });
    try {
      const p = await make.makeProduct({ stock: 30 });
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, i) => (i % 2 ? t : second).http().post('/api/holds').send({ product_id: p.id, qty: 1 })),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(30);
      expect(results.filter((r) => r.status === 409)).toHaveLength(90);
      const fromEach = [0, 1].map((k) => results.filter((r, i) => i % 2 === k && r.status === 201).length);
      expect(fromEach[0] + fromEach[1]).toBe(30);
      await expect(product(p.id)).resolves.toMatchObject({ stock: 30, available: 0 });
    } finally {
      await second.close();
    }
  });

  it('a hold for an unknown product is 404 and a hold over MAX_HOLD_QTY is 400', async () => {
    const p = await make.makeProduct({ stock: 50 });
    await t.http().post('/api/holds').send({ product_id: 999999, qty: 1 }).expect(404, {
      statusCode: 404,
      error: 'product_not_found',
      message: 'Product not found.',
    });
    const res = await t.http().post('/api/holds').send({ product_id: p.id, qty: 11 }).expect(400);
    expect(res.body).toMatchObject({ error: 'validation_failed', details: [{ field: 'qty' }] });
    await expect(product(p.id)).resolves.toMatchObject({ stock: 50, available: 50 });
  });

  it('a hold answers with the contract shape and reads back', async () => {
    const p = await make.makeProduct({ stock: 3 });
    const before = Date.now();
    const res = await t.http().post('/api/holds').send({ product_id: p.id, qty: 2 }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(Number),
      product_id: p.id,
      qty: 2,
      status: 'active',
      expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      created_at: expect.stringMatching(/Z$/),
      buyer: null,
    });
    const ttl = Date.parse(res.body.expires_at) - Date.parse(res.body.created_at);
    expect(ttl).toBe(120_000);
    expect(Date.parse(res.body.created_at)).toBeGreaterThanOrEqual(before - 5);
    await t.http().get(`/api/holds/${res.body.id}`).expect(200, res.body);
    await t.http().get('/api/holds/987654').expect(404);
    await expect(product(p.id)).resolves.toMatchObject({ stock: 3, available: 1 });
  });
});
