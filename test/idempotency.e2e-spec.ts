import { TransactionService } from '../src/database/transaction.service';
import { IdempotencyPurgeJob } from '../src/idempotency/idempotency-purge.job';
import { IdempotencyKeyTakenError, IdempotencyService } from '../src/idempotency/idempotency.service';
import { factories } from './factories';
import { connectTestDb, startTestApp, TestApp } from './helpers/test-app';
import { blockedOnRowLock } from './helpers/row-lock';

const DB = 'fs_test_idempotency';

describe('Idempotency-Key on POST /api/holds and POST /api/orders', () => {
  let t: TestApp;
  let make: ReturnType<typeof factories>;
  let seq = 0;
  const newKey = () => `key-${Date.now()}-${++seq}`;

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' });
    make = factories(t.dataSource);
  });
  afterAll(() => t.close());

  const hold = (key: string | undefined, body: unknown, app: TestApp = t) => {
    const req = app.http().post('/api/holds');
    return (key === undefined ? req : req.set('Idempotency-Key', key)).send(body as object);
  };
  const holdsOf = async (productId: number) => Number((await t.dataSource.query('SELECT COUNT(*) AS n FROM holds WHERE product_id = ?', [productId]))[0].n);
  const available = async (productId: number) => (await t.http().get(`/api/products/${productId}`).expect(200)).body.available as number;

  it('the same key and body returns the first answer again, marked replayed, with no second effect', async () => {
    const p = await make.makeProduct({ stock: 10 });
    const key = newKey();
    const first = await hold(key, { product_id: p.id, qty: 2 }).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await hold(key, { qty: 2, product_id: p.id }).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await holdsOf(p.id)).toBe(1);
    expect(await available(p.id)).toBe(8);
  });

  it('the same key with another body is 422 idempotency_key_reused and changes nothing', async () => {
    const p = await make.makeProduct({ stock: 10 });
    const key = newKey();
    await hold(key, { product_id: p.id, qty: 1 }).expect(201);
    const res = await hold(key, { product_id: p.id, qty: 3 }).expect(422);
    expect(res.body).toEqual({ statusCode: 422, error: 'idempotency_key_reused', message: expect.any(String) });
    expect(await holdsOf(p.id)).toBe(1);
    expect(await available(p.id)).toBe(9);
  });

  it('20 concurrent requests with one key make one hold; the others replay it or are told it is in flight', async () => {
    const p = await make.makeProduct({ stock: 50 });
    const key = newKey();
    const results = await Promise.all(Array.from({ length: 20 }, () => hold(key, { product_id: p.id, qty: 1 })));
    const created = results.filter((r) => r.status === 201);
    const inFlight = results.filter((r) => r.status === 409);
    expect(created.length + inFlight.length).toBe(20);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const r of inFlight) expect(r.body.error).toBe('idempotency_key_in_flight');
    expect(await holdsOf(p.id)).toBe(1);
    expect(await available(p.id)).toBe(49);
  });

  it('keys are scoped to the route', async () => {
    const p = await make.makeProduct({ stock: 5 });
    const key = newKey();
    const h = await hold(key, { product_id: p.id, qty: 1 }).expect(201);
    const order = await t.http().post('/api/orders').set('Idempotency-Key', key).send({ hold_id: h.body.id }).expect(201);
    expect(order.headers['idempotent-replayed']).toBeUndefined();
    const replay = await t.http().post('/api/orders').set('Idempotency-Key', key).send({ hold_id: h.body.id }).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(order.body);
    // Without the key, a second order for the hold is the route's own 409.
    await t.http().post('/api/orders').send({ hold_id: h.body.id }).expect(409);
    // Another hold that exists and could become an order: the key, not the hold, refuses it.
    const other = await hold(undefined, { product_id: p.id, qty: 1 }).expect(201);
    await t.http().post('/api/orders').set('Idempotency-Key', key).send({ hold_id: other.body.id }).expect(422);
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM orders WHERE hold_id = ?', [other.body.id]);
    expect(Number(n)).toBe(0);
  });

  it('compares keys byte for byte: a key ending in a space (two headers joined) is not the key without it', async () => {
    const p = await make.makeProduct({ stock: 10 });
    const key = `${newKey()},`;
    const first = await hold(key, { product_id: p.id, qty: 1 }).expect(201);
    // Node joins repeated headers with ", ": `key` without its comma and an empty one arrive as `${key} `.
    const twoHeaders = () =>
      t
        .http()
        .post('/api/holds')
        .set({ 'Idempotency-Key': [key.slice(0, -1), ''] } as unknown as Record<string, string>);
    const spaced = await twoHeaders().send({ product_id: p.id, qty: 1 });
    expect({ status: spaced.status, replayed: spaced.headers['idempotent-replayed'] }).toEqual({ status: 201, replayed: undefined });
    expect(spaced.body.id).not.toBe(first.body.id);
    // Each is its own key and replays its own answer.
    const again = await twoHeaders().send({ product_id: p.id, qty: 1 }).expect(201);
    expect({ replayed: again.headers['idempotent-replayed'], id: again.body.id }).toEqual({ replayed: 'true', id: spaced.body.id });
    expect((await hold(key, { product_id: p.id, qty: 1 }).expect(201)).body.id).toBe(first.body.id);
    expect(await holdsOf(p.id)).toBe(2);
    expect(await available(p.id)).toBe(8);
  });

  it('a refusal is remembered too: the same key answers the same 409 even after stock came back', async () => {
    const p = await make.makeProduct({ stock: 1 });
    await hold(undefined, { product_id: p.id, qty: 1 }).expect(201);
    const key = newKey();
    const refused = await hold(key, { product_id: p.id, qty: 1 }).expect(409);
    expect(refused.body).toMatchObject({ error: 'insufficient_stock', available: 0 });
    await t.dataSource.query('UPDATE products SET stock = stock + 5 WHERE id = ?', [p.id]);
    const again = await hold(key, { product_id: p.id, qty: 1 }).expect(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(refused.body);
    await hold(newKey(), { product_id: p.id, qty: 1 }).expect(201);
  });

  it.each([
    ['holds', { qty: 0, product_id: 1 }, [{ field: 'qty', problem: 'must be at least 1' }]],
    ['holds', { product_id: 1, qty: 1, note: 'x' }, [{ field: 'note', problem: 'property note should not exist' }]],
    ['orders', { hold_id: 1.5 }, [{ field: 'hold_id', problem: 'must be an integer' }]],
  ])("a field's 400 on /api/%s is the key's answer: replayed for the same body, 422 for another", async (route, body, details) => {
    const key = newKey();
    const post = (b: unknown) =>
      t
        .http()
        .post(`/api/${route}`)
        .set('Idempotency-Key', key)
        .send(b as object);
    const first = await post(body).expect(400);
    expect(first.body).toEqual({ statusCode: 400, error: 'validation_failed', message: expect.any(String), details });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post(body).expect(400);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    await post(route === 'holds' ? { product_id: 1, qty: 1 } : { hold_id: 1 }).expect(422);
  });

  it("a malformed key is reported before the body's fields", async () => {
    const res = await hold('bad\tkey', { product_id: 'x', qty: 0 }).expect(400);
    expect(res.body.details).toEqual([{ field: 'Idempotency-Key', problem: expect.any(String) }]);
  });

  it.each([
    ['empty', ''],
    ['longer than 255', 'k'.repeat(256)],
    ['a control character', 'bad\tkey'],
  ])('an Idempotency-Key that is %s is 400 and changes nothing', async (_name, key) => {
    const p = await make.makeProduct({ stock: 3 });
    const res = await hold(key, { product_id: p.id, qty: 1 }).expect(400);
    expect(res.body).toMatchObject({ error: 'validation_failed', details: [{ field: 'Idempotency-Key' }] });
    expect(await holdsOf(p.id)).toBe(0);
  });

  it('a key older than 24 hours is forgotten, and the purge job deletes it', async () => {
    const p = await make.makeProduct({ stock: 3 });
    const key = newKey();
    const old = new Date(Date.now() - 25 * 3600 * 1000);
    await t.dataSource.query('INSERT INTO idempotency_keys (scope, idem_key, request_hash, status_code, response_body, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      'holds',
      key,
      'x'.repeat(64),
      201,
      '{"id":1}',
      old,
    ]);
    const res = await hold(key, { product_id: p.id, qty: 1 }).expect(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(await holdsOf(p.id)).toBe(1);
    await t.dataSource.query('INSERT INTO idempotency_keys (scope, idem_key, request_hash, status_code, response_body, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      'holds',
      newKey(),
      'y'.repeat(64),
      201,
      '{"id":2}',
      old,
    ]);
    await expect(t.app.get(IdempotencyPurgeJob).purge()).resolves.toBeGreaterThanOrEqual(1);
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM idempotency_keys WHERE created_at <= ?', [new Date(Date.now() - 24 * 3600 * 1000)]);
    expect(Number(n)).toBe(0);
  });

  it('a claim left by a request that died blocks its key with 409 only until its lease ends; then the retry runs', async () => {
    const p = await make.makeProduct({ stock: 5 });
    const claimRow = (key: string, until: Date) =>
      t.dataSource.query('INSERT INTO idempotency_keys (scope, idem_key, request_hash, claim_token, claimed_until, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        'holds',
        key,
        'z'.repeat(64),
        'd'.repeat(32),
        until,
        new Date(until.getTime() - 60_000),
      ]);
    const live = newKey();
    await claimRow(live, new Date(Date.now() + 30_000));
    const blocked = await hold(live, { product_id: p.id, qty: 1 }).expect(409);
    expect(blocked.body.error).toBe('idempotency_key_in_flight');
    expect(await holdsOf(p.id)).toBe(0);

    const dead = newKey();
    await claimRow(dead, new Date(Date.now() - 1));
    const ran = await hold(dead, { product_id: p.id, qty: 2 }).expect(201);
    expect(ran.headers['idempotent-replayed']).toBeUndefined();
    const again = await hold(dead, { product_id: p.id, qty: 2 }).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(ran.body);
    expect(await holdsOf(p.id)).toBe(1);
  });

  it("an effect whose claim was taken over meanwhile rolls back: only the claim's holder can answer its key", async () => {
    const idempotency = t.app.get(IdempotencyService);
    const transactions = t.app.get(TransactionService);
    const p = await make.makeProduct({ stock: 5 });
    const key = newKey();
    const claimed = await idempotency.claim('holds', key, 'h'.repeat(64));
    if (!('claim' in claimed)) throw new Error('expected a fresh claim');
    // Its lease lapses and another request takes the key over (as after a long stall).
    await t.dataSource.query('UPDATE idempotency_keys SET claimed_until = ? WHERE scope = ? AND idem_key = ?', [new Date(Date.now() - 1), 'holds', key]);
    const other = await idempotency.claim('holds', key, 'h'.repeat(64));
    if (!('claim' in other)) throw new Error('expected the take-over to claim the key');
    await expect(
      transactions.run(async (tx) => {
        await tx.manager.query('UPDATE products SET reserved = reserved + 1 WHERE id = ?', [p.id]);
        await idempotency.fill(tx, [{ claim: claimed.claim, status: 201, body: { stale: true } }]);
      }),
    ).rejects.toBeInstanceOf(IdempotencyKeyTakenError);
    expect(await available(p.id)).toBe(5); // the effect rolled back with its fill
    await expect(idempotency.recordAnswer(claimed.claim, 409, { stale: true })).resolves.toBe(false);
    await expect(idempotency.stillClaimed([claimed.claim, other.claim])).resolves.toEqual(new Set([other.claim]));
    await transactions.run((tx) => idempotency.fill(tx, [{ claim: other.claim, status: 409, body: { fresh: true } }]));
    await expect(idempotency.find('holds', key)).resolves.toEqual({ hash: 'h'.repeat(64), status: 409, body: { fresh: true } });
  });

  it('one key sent to two instances at once still makes one hold, and every recorded key has its hold', async () => {
    const second = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' }, { fresh: false });
    try {
      const p = await make.makeProduct({ stock: 100 });
      for (let i = 0; i < 10; i++) {
        const key = newKey();
        const results = await Promise.all(Array.from({ length: 6 }, (_, j) => hold(key, { product_id: p.id, qty: 1 }, j % 2 ? second : t)));
        const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
        expect(ids.size).toBe(1);
        for (const r of results) expect([201, 409]).toContain(r.status);
      }
      expect(await holdsOf(p.id)).toBe(10);
      const rows: Array<{ body: string }> = await t.dataSource.query(
        `SELECT response_body AS body FROM idempotency_keys WHERE scope = 'holds' AND status_code = 201`,
      );
      for (const row of rows) {
        const id = (JSON.parse(row.body) as { id: number }).id;
        const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM holds WHERE id = ?', [id]);
        expect({ id, exists: Number(n) }).toEqual({ id, exists: 1 });
      }
    } finally {
      await second.close();
    }
  });
});

describe('Idempotency-Key when the hold is not admitted', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(`${DB}_admission`, { AVAILABILITY_CACHE_TTL_MS: '0', HOLD_QUEUE_TIMEOUT_MS: '300' });
  });
  afterAll(() => t.close());

  it('a hold answered 503 at its queue deadline gives its key up, so the retry runs at once; it was never granted', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const locker = await connectTestDb(`${DB}_admission`);
    const key = `deadline-${Date.now()}`;
    try {
      // Hold the product's row lock: the two reservation batches this instance runs at once wait on it.
      const body = { product_id: p.id, qty: 1 };
      const blocked = await blockedOnRowLock(locker, p.id, 2, () =>
        t
          .http()
          .post('/api/holds')
          .send(body)
          .then((r) => r),
      );
      const shed = await t.http().post('/api/holds').set('Idempotency-Key', key).send(body);
      expect(shed.status).toBe(503);
      expect(shed.headers['retry-after']).toBe('1');
      const [rows] = await locker.query('SELECT COUNT(*) AS n FROM idempotency_keys WHERE idem_key = ?', [key]);
      expect(Number((rows as Array<{ n: number }>)[0].n)).toBe(0);
      await locker.query('ROLLBACK');
      for (const r of await Promise.all(blocked)) expect(r.status).toBe(201);
      const retried = await t.http().post('/api/holds').set('Idempotency-Key', key).send(body).expect(201);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      const [holds] = await locker.query('SELECT COUNT(*) AS n FROM holds WHERE product_id = ?', [p.id]);
      expect(Number((holds as Array<{ n: number }>)[0].n)).toBe(3);
    } finally {
      await locker.end();
    }
  });
});
