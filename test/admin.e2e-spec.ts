import { HoldExpiryJob } from '../src/checkout/hold-expiry.job';
import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';
import { sleep, timed } from './helpers/wait';
import { sendWebhook } from './helpers/webhook';

const DB = 'fs_test_admin';
const TOKEN = 'test-admin-token';
const auth = { Authorization: `Bearer ${TOKEN}` };

describe('admin routes: setting up a sale', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(DB, { ADMIN_TOKEN: TOKEN, AVAILABILITY_CACHE_TTL_MS: '1000' });
  });
  afterAll(() => t.close());

  const snapshot = () => t.dataSource.query<unknown[]>('SELECT id, name, price, stock, reserved FROM products ORDER BY id');

  it('POST /api/products creates a product that is on sale at once', async () => {
    const res = await t.http().post('/api/products').set(auth).send({ name: 'Drop sneaker', price: '149.50', stock: 25 }).expect(201);
    expect(res.body).toEqual({ id: expect.any(Number), name: 'Drop sneaker', price: '149.50', stock: 25, available: 25, max_per_buyer: null });
    await t
      .http()
      .get(`/api/products/${res.body.id}`)
      .expect(200)
      .expect((r) => expect(r.body).toEqual(res.body));
    await t.http().post('/api/holds').send({ product_id: res.body.id, qty: 2 }).expect(201);
  });

  it('PATCH /api/products/:id adds stock and answers fresh, never from the cache', async () => {
    const created = await t.http().post('/api/products').set(auth).send({ name: 'Restocked', price: '10.00', stock: 3 }).expect(201);
    const id = created.body.id as number;
    await t.http().get(`/api/products/${id}`).expect(200); // now cached for 1 s
    await t.http().post('/api/holds').send({ product_id: id, qty: 3 }).expect(201);
    const restocked = await timed(() => t.http().patch(`/api/products/${id}`).set(auth).send({ restock: 50 }).expect(200));
    const res = restocked.value;
    expect(res.body).toEqual({ id, name: 'Restocked', price: '10.00', stock: 53, available: 50, max_per_buyer: null });
    // Reads may lag by at most the cache TTL (1 s here): every entry from before the restock was
    // read before it committed, so a read sent at or after its answer + TTL must show it. Poll
    // until the listing shows it (the restock's refresh usually puts it there at once).
    const ttl = t.config.availabilityCacheTtlMs;
    let listed: { stock: number } | undefined;
    for (;;) {
      const list = await timed(() => t.http().get('/api/products').expect(200));
      listed = (list.value.body.data as Array<{ id: number; stock: number }>).find((p) => p.id === id);
      if (listed?.stock === 53 || list.sent >= restocked.done + ttl) break;
      await sleep(20);
    }
    expect(listed).toEqual(res.body);
  });

  it('a restock that would take stock past 2^53-1 is 400 and changes nothing', async () => {
    const created = await t.http().post('/api/products').set(auth).send({ name: 'Near the limit', price: '1.00', stock: 0 }).expect(201);
    const id = created.body.id as number;
    await t.dataSource.query('UPDATE products SET stock = ? WHERE id = ?', [Number.MAX_SAFE_INTEGER - 5, id]);
    const res = await t.http().patch(`/api/products/${id}`).set(auth).send({ restock: 10 }).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'validation_failed', details: [{ field: 'restock' }] });
    const [row] = await t.dataSource.query('SELECT CAST(stock AS CHAR) AS stock FROM products WHERE id = ?', [id]);
    expect(row.stock).toBe(String(Number.MAX_SAFE_INTEGER - 5));
    await t
      .http()
      .patch(`/api/products/${id}`)
      .set(auth)
      .send({ restock: 5 })
      .expect(200)
      .expect((r) => expect(r.body.stock).toBe(Number.MAX_SAFE_INTEGER));
  });

  it('a name is 1 to 200 characters as its column counts them (code points), of well-formed Unicode', async () => {
    // 200 characters each: 200 emoji (400 UTF-16 units), and 100 letters each with a variation
    // selector (U+FE0F, a character of its own for the column) are taken and answered unchanged.
    for (const name of ['😀'.repeat(200), 'x\ufe0f'.repeat(100)]) {
      const res = await t.http().post('/api/products').set(auth).send({ name, price: '1.00', stock: 1 }).expect(201);
      expect(res.body.name).toBe(name);
    }
    // 201 characters (which the validator's isLength counted as 200: it does not count a variation
    // selector after a letter) was a 500 from the column; a lone surrogate, which has no UTF-8 form,
    // was stored and answered as U+FFFD. Both are 400 `name`, and nothing is created.
    const refused: Array<[string, string]> = [
      ['x'.repeat(200) + '\ufe0f', 'must be 1 to 200 characters'],
      ['x\ufe0f'.repeat(101), 'must be 1 to 200 characters'],
      ['a\ud800b', 'must be well-formed Unicode (no lone surrogate)'],
      ['\udc00', 'must be well-formed Unicode (no lone surrogate)'],
    ];
    for (const [name, problem] of refused) {
      const before = await snapshot();
      const res = await t.http().post('/api/products').set(auth).send({ name, price: '1.00', stock: 1 });
      expect({ name, status: res.status, body: res.body as unknown }).toEqual({
        name,
        status: 400,
        body: { statusCode: 400, error: 'validation_failed', message: 'The request is not valid.', details: [{ field: 'name', problem }] },
      });
      expect(await snapshot()).toEqual(before);
    }
  });

  it('PATCH of an unknown product is 404 product_not_found', async () => {
    const res = await t.http().patch('/api/products/999999').set(auth).send({ restock: 5 }).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'product_not_found' });
  });

  const cases: Array<[string, 'post' | 'patch', Record<string, string>, unknown, number, string]> = [
    ['no token', 'post', {}, { name: 'x', price: '1.00', stock: 1 }, 401, 'unauthorized'],
    ['wrong token', 'post', { Authorization: 'Bearer nope' }, { name: 'x', price: '1.00', stock: 1 }, 401, 'unauthorized'],
    ['token without Bearer', 'post', { Authorization: TOKEN }, { name: 'x', price: '1.00', stock: 1 }, 401, 'unauthorized'],
    ['lower-case scheme with a longer token', 'post', { Authorization: `bearer ${TOKEN}x` }, { name: 'x', price: '1.00', stock: 1 }, 401, 'unauthorized'],
    ['restock without token', 'patch', {}, { restock: 5 }, 401, 'unauthorized'],
    ['missing name', 'post', auth, { price: '1.00', stock: 1 }, 400, 'validation_failed'],
    ['empty name', 'post', auth, { name: '', price: '1.00', stock: 1 }, 400, 'validation_failed'],
    ['blank name', 'post', auth, { name: '   ', price: '1.00', stock: 1 }, 400, 'validation_failed'],
    ['name too long', 'post', auth, { name: 'x'.repeat(201), price: '1.00', stock: 1 }, 400, 'validation_failed'],
    ['name not a string', 'post', auth, { name: 5, price: '1.00', stock: 1 }, 400, 'validation_failed'],
    ['numeric price', 'post', auth, { name: 'x', price: 99, stock: 1 }, 400, 'validation_failed'],
    ['price with one place', 'post', auth, { name: 'x', price: '99.9', stock: 1 }, 400, 'validation_failed'],
    ['negative price', 'post', auth, { name: 'x', price: '-1.00', stock: 1 }, 400, 'validation_failed'],
    ['price too large', 'post', auth, { name: 'x', price: '12345678901.00', stock: 1 }, 400, 'validation_failed'],
    ['negative stock', 'post', auth, { name: 'x', price: '1.00', stock: -1 }, 400, 'validation_failed'],
    ['fractional stock', 'post', auth, { name: 'x', price: '1.00', stock: 1.5 }, 400, 'validation_failed'],
    ['stock as a string', 'post', auth, { name: 'x', price: '1.00', stock: '10' }, 400, 'validation_failed'],
    ['stock too large', 'post', auth, { name: 'x', price: '1.00', stock: 1_000_000_001 }, 400, 'validation_failed'],
    ['unknown field', 'post', auth, { name: 'x', price: '1.00', stock: 1, reserved: 0 }, 400, 'validation_failed'],
    ['restock zero', 'patch', auth, { restock: 0 }, 400, 'validation_failed'],
    ['restock negative', 'patch', auth, { restock: -5 }, 400, 'validation_failed'],
    ['restock as a string', 'patch', auth, { restock: '5' }, 400, 'validation_failed'],
    ['restock missing', 'patch', auth, {}, 400, 'validation_failed'],
    ['restock with another field', 'patch', auth, { restock: 5, stock: 1 }, 400, 'validation_failed'],
  ];

  it.each(cases)('%s → %i %s, nothing changes', async (_name, method, headers, body, status, error) => {
    // A refused restock targets a product that exists, so "nothing changes" covers its stock.
    const target = await factories(t.dataSource).makeProduct({ stock: 7 });
    const before = await snapshot();
    const req = method === 'post' ? t.http().post('/api/products') : t.http().patch(`/api/products/${target.id}`);
    const res = await req.set(headers).send(body as object);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ statusCode: status, error });
    // A 401 names the scheme it takes; other answers carry no challenge.
    expect(res.headers['www-authenticate']).toBe(status === 401 ? 'Bearer' : undefined);
    expect(await snapshot()).toEqual(before);
  });

  it('two Authorization headers are 401, even twice the right token: nothing is created', async () => {
    const before = await snapshot();
    for (const headers of [
      [auth.Authorization, auth.Authorization],
      [auth.Authorization, 'Bearer nope'],
      ['Bearer nope', auth.Authorization],
    ]) {
      const res = await t
        .http()
        .post('/api/products')
        .set('Authorization', headers as unknown as string)
        .send({ name: 'Twice', price: '1.00', stock: 1 });
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'unauthorized' });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('checks the token before the body: bad JSON without a token is 401, with it 400 invalid_json', async () => {
    const raw = (headers: Record<string, string>) =>
      t
        .http()
        .post('/api/products')
        .set({ 'Content-Type': 'application/json', ...headers })
        .send('{"name":');
    await raw({}).expect(401);
    const res = await raw(auth).expect(400);
    expect(res.body.error).toBe('invalid_json');
    const text = await t.http().post('/api/products').set('Content-Type', 'text/plain').send('hello').expect(415);
    expect(text.body.error).toBe('unsupported_media_type');
  });

  it('PATCH checks the path id before the body: a bad id with a bad body reports only `id`', async () => {
    for (const body of [{ restock: 0 }, { restock: 'x', stock: 1 }, {}]) {
      const res = await t.http().patch('/api/products/abc?x=1').set(auth).send(body);
      expect({ body, status: res.status, details: res.body.details as unknown }).toEqual({
        body,
        status: 400,
        details: [{ field: 'id', problem: 'must be an integer from 1 to 9007199254740991' }],
      });
    }
  });

  it('a path id of any length is 400 `id`, checked after 415 and 401 like any other bad id (PATCH and the movements)', async () => {
    const ID_PROBLEM = [{ field: 'id', problem: 'must be an integer from 1 to 9007199254740991' }];
    for (const digits of [101, 5000]) {
      const id = '9'.repeat(digits);
      const patch = () => t.http().patch(`/api/products/${id}`);
      const movements = () => t.http().get(`/api/products/${id}/movements`);
      const seen = async (req: ReturnType<typeof patch>) => {
        const res = await req;
        return { digits, status: res.status, error: res.body.error as unknown, details: res.body.details as unknown };
      };
      expect(await seen(patch().set(auth).send({ restock: 1 }))).toEqual({ digits, status: 400, error: 'validation_failed', details: ID_PROBLEM });
      expect(await seen(movements().set(auth))).toEqual({ digits, status: 400, error: 'validation_failed', details: ID_PROBLEM });
      expect(await seen(patch().send({ restock: 1 }))).toMatchObject({ digits, status: 401, error: 'unauthorized' });
      expect(await seen(movements())).toMatchObject({ digits, status: 401, error: 'unauthorized' });
      expect(await seen(patch().set(auth).set('Content-Type', 'text/plain').send('x'))).toMatchObject({
        digits,
        status: 415,
        error: 'unsupported_media_type',
      });
    }
  });

  it('GET /api/admin/sales: `holds` counts every hold ever granted, also once the expiry job has deleted an ended one', async () => {
    const created = await t.http().post('/api/products').set(auth).send({ name: 'Counted drop', price: '5.00', stock: 4 }).expect(201);
    const id = created.body.id as number;
    const holds: number[] = [];
    for (const qty of [2, 1, 1]) holds.push((await t.http().post('/api/holds').send({ product_id: id, qty }).expect(201)).body.id);
    await t.http().post('/api/holds').send({ product_id: id, qty: 1 }).expect(409); // refused: not a hold
    const order = await t.http().post('/api/orders').send({ hold_id: holds[0] }).expect(201);
    expect((await sendWebhook(t, { idempotency_key: `sales-${order.body.id}`, order_id: order.body.id, status: 'success' })).body.result).toBe('applied');
    const figures = async () => {
      const res = await t.http().get('/api/admin/sales').set(auth).expect(200);
      return (res.body.data as Array<{ product_id: number }>).find((row) => row.product_id === id);
    };
    expect(await figures()).toEqual({ product_id: id, name: 'Counted drop', stock: 2, available: 0, held: 2, sold: 2, holds: 3 });

    // The last hold lapsed ten days ago: the job marks it expired, then deletes it (HOLD_RETENTION_DAYS 7).
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    await t.dataSource.query('UPDATE holds SET created_at = ?, expires_at = ? WHERE id = ?', [new Date(tenDaysAgo.getTime() - 120_000), tenDaysAgo, holds[2]]);
    const job = t.app.get(HoldExpiryJob);
    await job.sweep();
    await job.purgeEnded();
    await t.http().get(`/api/holds/${holds[2]}`).expect(404);
    expect(await figures()).toEqual({ product_id: id, name: 'Counted drop', stock: 2, available: 1, held: 1, sold: 2, holds: 3 });
  });

  it('GET /api/admin/sales reads its figures in one snapshot: while orders are paid, stock + sold stays the stock the sale began with', async () => {
    const units = 60;
    const created = await t.http().post('/api/products').set(auth).send({ name: 'Snapshot drop', price: '5.00', stock: units }).expect(201);
    const id = created.body.id as number;
    const orders: number[] = [];
    for (let i = 0; i < units; i++) {
      const hold = await t.http().post('/api/holds').send({ product_id: id, qty: 1 }).expect(201);
      orders.push((await t.http().post('/api/orders').send({ hold_id: hold.body.id }).expect(201)).body.id);
    }
    // A payment moves a unit from `stock` to `sold` in one commit: a reading that saw the product
    // before a payment and the paid orders after it would show the unit in neither or both.
    let paying = true;
    const readings: Array<{ stock: number; sold: number }> = [];
    const reader = async () => {
      while (paying) {
        const res = await t.http().get('/api/admin/sales').set(auth).expect(200);
        const row = (res.body.data as Array<{ product_id: number; stock: number; sold: number }>).find((r) => r.product_id === id)!;
        readings.push({ stock: row.stock, sold: row.sold });
      }
    };
    const readers = [reader(), reader()];
    try {
      for (let i = 0; i < units; i += 3) {
        await Promise.all(
          orders.slice(i, i + 3).map(async (orderId) => {
            const hook = await sendWebhook(t, { idempotency_key: `snapshot-${orderId}`, order_id: orderId, status: 'success' });
            expect(hook.body.result).toBe('applied');
          }),
        );
      }
    } finally {
      paying = false;
      await Promise.all(readers);
    }
    expect(readings.filter((r) => r.stock + r.sold !== units)).toEqual([]);
    // The readings saw the payments happen, not only before or after them.
    expect(readings.some((r) => r.sold > 0 && r.sold < units)).toBe(true);
  });

  it('the migration that adds `holds_granted` starts it from the holds still stored, or from the ledger when it has more', async () => {
    const make = factories(t.dataSource);
    const [purged, preLedger] = [await make.makeProduct({ stock: 10 }), await make.makeProduct({ stock: 10 })];
    const purgedHolds = await make.makeHolds([1, 2, 3].map(() => ({ productId: purged.id })));
    await t.dataSource.query('DELETE FROM holds WHERE id = ?', [purgedHolds[0]]); // deleted by retention: its movement stays
    await make.makeHolds([1, 2].map(() => ({ productId: preLedger.id })));
    await t.dataSource.query("DELETE FROM stock_movements WHERE product_id = ? AND kind = 'hold'", [preLedger.id]); // made before the ledger

    const migration = 'ProductHoldsGranted1764000000014';
    await t.dataSource.query('ALTER TABLE products DROP COLUMN holds_granted');
    await t.dataSource.query('DELETE FROM migrations WHERE name = ?', [migration]);
    await t.dataSource.runMigrations({ transaction: 'each' });
    const granted = await t.dataSource.query<Array<{ id: string; holds_granted: string }>>(
      'SELECT id, holds_granted FROM products WHERE id IN (?, ?) ORDER BY id',
      [purged.id, preLedger.id],
    );
    expect(granted.map((r) => Number(r.holds_granted))).toEqual([3, 2]);
  });

  it('concurrent restocks and holds keep 0 <= available <= stock and lose no unit', async () => {
    const created = await t.http().post('/api/products').set(auth).send({ name: 'Contended', price: '5.00', stock: 10 }).expect(201);
    const id = created.body.id as number;
    const reads: Array<{ stock: number; available: number }> = [];
    const requests = Array.from({ length: 140 }, (_, i) =>
      i % 7 === 0
        ? t.http().patch(`/api/products/${id}`).set(auth).send({ restock: 5 })
        : i % 7 === 1
          ? t.http().get(`/api/products/${id}`)
          : t.http().post('/api/holds').send({ product_id: id, qty: 1 }),
    );
    const results = await Promise.all(requests);
    for (const [i, r] of results.entries()) {
      if (i % 7 === 0) {
        expect(r.status).toBe(200);
        reads.push(r.body);
      } else if (i % 7 === 1) {
        expect(r.status).toBe(200);
        reads.push(r.body);
      } else expect([201, 409]).toContain(r.status);
    }
    for (const r of reads) {
      expect(r.available).toBeGreaterThanOrEqual(0);
      expect(r.available).toBeLessThanOrEqual(r.stock);
    }
    const granted = results.filter((r, i) => i % 7 > 1 && r.status === 201).length;
    const [row] = await t.dataSource.query('SELECT stock, reserved FROM products WHERE id = ?', [id]);
    expect(Number(row.stock)).toBe(10 + 20 * 5);
    expect(Number(row.reserved)).toBe(granted);
    const [{ n }] = await t.dataSource.query("SELECT COUNT(*) AS n FROM holds WHERE product_id = ? AND status = 'active'", [id]);
    expect(Number(n)).toBe(granted);
    const fresh = await t.http().patch(`/api/products/${id}`).set(auth).send({ restock: 1 }).expect(200);
    expect(fresh.body).toMatchObject({ stock: 111, available: 111 - granted });
  });
});

describe('admin routes without ADMIN_TOKEN', () => {
  it('are 403 admin_disabled, whatever the token', async () => {
    const t = await startTestApp('fs_test_admin_off', {});
    try {
      const existing = await factories(t.dataSource).makeProduct({ stock: 4 });
      for (const headers of [{}, auth]) {
        const res = await t.http().post('/api/products').set(headers).send({ name: 'x', price: '1.00', stock: 1 }).expect(403);
        expect(res.body).toMatchObject({ statusCode: 403, error: 'admin_disabled' });
        await t.http().patch(`/api/products/${existing.id}`).set(headers).send({ restock: 1 }).expect(403);
      }
      // A path id of any length is no exception: 403 comes first.
      for (const digits of [101, 5000]) {
        const id = '9'.repeat(digits);
        const patch = await t.http().patch(`/api/products/${id}`).set(auth).send({ restock: 1 });
        const movements = await t.http().get(`/api/products/${id}/movements`).set(auth);
        for (const res of [patch, movements])
          expect({ digits, status: res.status, error: res.body.error as unknown }).toEqual({ digits, status: 403, error: 'admin_disabled' });
      }
      // No product was created, and the one that exists was not restocked.
      const rows: Array<{ id: number; stock: number }> = await t.dataSource.query('SELECT id, stock FROM products');
      expect(rows.map((r) => ({ id: Number(r.id), stock: Number(r.stock) }))).toEqual([{ id: existing.id, stock: 4 }]);
    } finally {
      await t.close();
    }
  });
});
