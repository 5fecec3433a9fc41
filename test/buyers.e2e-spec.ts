import { Connection } from 'mysql2/promise';
import { sign } from 'jsonwebtoken';
import { factories } from './factories';
import { BUYER_SECRET, buyerAuth, RSA, rsaBuyerAuth } from './helpers/buyer-tokens';
import { freePort } from './helpers/service-process';
import { connectTestDb, startTestApp, TestApp } from './helpers/test-app';
import { sendWebhook } from './helpers/webhook';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { SERVICE_CWD } from './helpers/service-process';
import { TEST_ENV, testDbName } from './helpers/test-app';

const DB = 'fs_test_buyers';
/** The operator's token of the instances below (the listing of every buyer's orders needs it with BUYER_AUTH=jwt). */
const ADMIN = 'buyers-admin-token';
const JWT_ENV = { BUYER_AUTH: 'jwt', BUYER_JWT_SECRET: BUYER_SECRET, BUYER_JWT_AUDIENCE: 'shop', AVAILABILITY_CACHE_TTL_MS: '0' };

async function countRows(db: Connection, table: string): Promise<number> {
  const [[row]] = (await db.query(`SELECT COUNT(*) AS n FROM ${table}`)) as unknown as [Array<{ n: number }>];
  return Number(row.n);
}

describe('buyers: tokens, ownership and max_per_buyer', () => {
  const apps: TestApp[] = [];
  let a: TestApp;
  let db: Connection;
  const alice = buyerAuth('alice', { audience: 'shop' });
  const bob = buyerAuth('bob', { audience: 'shop' });

  beforeAll(async () => {
    a = await startTestApp(DB, { ...JWT_ENV, WEBHOOK_SECRET: 'buyers-secret', ADMIN_TOKEN: ADMIN });
    apps.push(a);
    apps.push(...(await Promise.all([1, 2].map(() => startTestApp(DB, { ...JWT_ENV, WEBHOOK_SECRET: 'buyers-secret' }, { fresh: false })))));
    db = await connectTestDb(DB);
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await Promise.all(apps.map((t) => t.close()));
  });

  describe('buyer tokens', () => {
    it('accepts a valid HS256 token and records its sub as the buyer', async () => {
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      const res = await a.http().post('/api/holds').set('Authorization', alice).send({ product_id: p.id, qty: 1 });
      expect(res.status).toBe(201);
      expect(res.body.buyer).toBe('alice');
    });

    it.each([
      ['no header', undefined],
      ['garbage', 'Bearer not-a-token'],
      ['another scheme', `Basic ${Buffer.from('alice:pw').toString('base64')}`],
      ['lower-case scheme', alice.replace('Bearer', 'bearer')],
      ['a wrong key', buyerAuth('alice', { audience: 'shop' }, 'another-secret-another-secret-00')],
      ['an expired token (past the 30 s skew)', buyerAuth('alice', { audience: 'shop', expiresIn: -31 })],
      ['a wrong audience', buyerAuth('alice', { audience: 'other-shop' })],
      ['no audience', buyerAuth('alice')],
      ['no exp', `Bearer ${sign({ sub: 'alice', aud: 'shop' }, BUYER_SECRET, { algorithm: 'HS256' })}`],
      ['no sub', `Bearer ${sign({ aud: 'shop' }, BUYER_SECRET, { algorithm: 'HS256', expiresIn: 60 })}`],
      ['a sub of 256 characters', buyerAuth('x'.repeat(256), { audience: 'shop' })],
      ['a sub that is not well-formed Unicode (a lone surrogate)', buyerAuth('\udc00alice', { audience: 'shop' })],
      ['an RS256 token when the key is a secret', rsaBuyerAuth('alice', { audience: 'shop' })],
      ['a crit header (RFC 7515: extensions it does not understand)', buyerAuth('alice', { audience: 'shop', header: { alg: 'HS256', crit: ['b64'] } })],
    ])('refuses %s with 401 unauthorized, creating nothing', async (_name, header) => {
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      const before = await countRows(db, 'holds');
      let req = a.http().post('/api/holds');
      if (header !== undefined) req = req.set('Authorization', header);
      const res = await req.send({ product_id: p.id, qty: 1 });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'unauthorized' });
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(await countRows(db, 'holds')).toBe(before);
      const order = await a
        .http()
        .post('/api/orders')
        .set('Authorization', header ?? '')
        .send({ hold_id: 1 });
      expect(order.status).toBe(401);
    });

    it('refuses two Authorization headers with 401, whichever comes first, even twice the same valid token', async () => {
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      const before = await countRows(db, 'holds');
      for (const headers of [
        [alice, 'Bearer not-a-token'],
        ['Bearer not-a-token', alice],
        [alice, bob],
        [alice, alice],
      ]) {
        // superagent sends an array as one header line per value.
        const res = await a
          .http()
          .post('/api/holds')
          .set('Authorization', headers as unknown as string)
          .send({ product_id: p.id, qty: 1 });
        expect({ status: res.status, error: res.body.error, scheme: res.headers['www-authenticate'] }).toEqual({
          status: 401,
          error: 'unauthorized',
          scheme: 'Bearer',
        });
      }
      expect(await countRows(db, 'holds')).toBe(before);
      await a.http().post('/api/holds').set('Authorization', alice).send({ product_id: p.id, qty: 1 }).expect(201);
    });

    it('accepts an expired token within the 30 s skew', async () => {
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      const res = await a
        .http()
        .post('/api/holds')
        .set('Authorization', buyerAuth('alice', { audience: 'shop', expiresIn: -10 }))
        .send({ product_id: p.id, qty: 1 });
      expect(res.status).toBe(201);
    });

    it('leaves product reads and the webhook without a buyer token', async () => {
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      expect((await a.http().get(`/api/products/${p.id}`)).status).toBe(200);
      expect((await a.http().get('/api/products')).status).toBe(200);
      expect((await sendWebhook(a, { idempotency_key: 'b-1', order_id: 999999, status: 'success' })).status).toBe(202);
    });

    it("makes the listing of every buyer's orders the operator's: 401 without the admin token, a buyer's token included; 403 where none is set", async () => {
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      const hold = await a.http().post('/api/holds').set('Authorization', alice).send({ product_id: p.id, qty: 1 }).expect(201);
      const order = await a.http().post('/api/orders').set('Authorization', alice).send({ hold_id: hold.body.id }).expect(201);
      for (const header of [undefined, alice, bob, `Bearer ${ADMIN}x`]) {
        let req = a.http().get(`/api/orders?buyer=alice&product_id=${p.id}`);
        if (header !== undefined) req = req.set('Authorization', header);
        const res = await req;
        expect({ status: res.status, error: res.body.error, data: res.body.data }).toEqual({ status: 401, error: 'unauthorized', data: undefined });
      }
      const listing = await a.http().get(`/api/orders?buyer=alice&product_id=${p.id}`).set('Authorization', `Bearer ${ADMIN}`).expect(200);
      expect(listing.body.data.map((o: { id: number }) => o.id)).toEqual([order.body.id]);
      const closed = await startTestApp(DB, JWT_ENV, { fresh: false });
      try {
        expect((await closed.http().get('/api/orders').set('Authorization', `Bearer ${ADMIN}`)).body).toMatchObject({
          statusCode: 403,
          error: 'admin_disabled',
        });
      } finally {
        await closed.close();
      }
    });
  });

  describe('RS256 tokens', () => {
    let rs: TestApp;
    beforeAll(async () => {
      rs = await startTestApp(DB, { BUYER_AUTH: 'jwt', BUYER_JWT_PUBLIC_KEY: RSA.publicKey.replace(/\n/g, '\\n') }, { fresh: false });
    });
    afterAll(() => rs.close());

    it('accepts a token signed with the private key and refuses HS256 signed with the public key', async () => {
      const p = await factories(rs.dataSource).makeProduct({ stock: 5 });
      const ok = await rs.http().post('/api/holds').set('Authorization', rsaBuyerAuth('carol')).send({ product_id: p.id, qty: 1 });
      expect(ok.status).toBe(201);
      expect(ok.body.buyer).toBe('carol');
      const confused = `Bearer ${sign({ sub: 'carol' }, RSA.publicKey, { algorithm: 'HS256', expiresIn: 60 })}`;
      const bad = await rs.http().post('/api/holds').set('Authorization', confused).send({ product_id: p.id, qty: 1 });
      expect(bad.status).toBe(401);
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"carol","exp":9999999999}').toString('base64url')}.`;
      expect((await rs.http().post('/api/holds').set('Authorization', `Bearer ${none}`).send({ product_id: p.id, qty: 1 })).status).toBe(401);
    });
  });

  it('refuses to start with BUYER_AUTH=jwt and no key, naming the variable', async () => {
    const res = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
      cwd: SERVICE_CWD,
      env: { ...process.env, ...TEST_ENV, DB_NAME: testDbName(DB), PORT: String(await freePort()), BUYER_AUTH: 'jwt' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr.trim()).toBe('Invalid configuration: BUYER_JWT_SECRET or BUYER_JWT_PUBLIC_KEY must be set when BUYER_AUTH=jwt');
  });

  // node's createPublicKey derives the public key from a private one: without the check the
  // service would start, holding a key that can sign a token for any buyer.
  it.each([
    ['BUYER_AUTH=jwt', 'jwt', RSA.privateKey.replace(/\n/g, '\\n')],
    ['BUYER_AUTH=jwt, an EC key', 'jwt', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString()],
    ['BUYER_AUTH=off', 'off', RSA.privateKey],
  ])('refuses to start with a private key as BUYER_JWT_PUBLIC_KEY (%s)', async (_name, auth, pem) => {
    const res = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], {
      cwd: SERVICE_CWD,
      env: { ...process.env, ...TEST_ENV, DB_NAME: testDbName(DB), PORT: String(await freePort()), BUYER_AUTH: auth, BUYER_JWT_PUBLIC_KEY: pem },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr.trim()).toBe('Invalid configuration: BUYER_JWT_PUBLIC_KEY must be a public key, not a private key');
  });

  describe('ownership', () => {
    it("answers another buyer's hold and order 404, exactly as unknown ids; the owner sees and orders them", async () => {
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      const hold = await a.http().post('/api/holds').set('Authorization', alice).send({ product_id: p.id, qty: 1 });
      expect(hold.status).toBe(201);
      const holdByBob = await a.http().get(`/api/holds/${hold.body.id}`).set('Authorization', bob);
      const unknownHold = await a.http().get('/api/holds/9007199254740991').set('Authorization', bob);
      expect(holdByBob.status).toBe(404);
      expect(holdByBob.body).toEqual({ ...unknownHold.body });
      expect(holdByBob.body.error).toBe('hold_not_found');
      const orderByBob = await a.http().post('/api/orders').set('Authorization', bob).send({ hold_id: hold.body.id });
      expect(orderByBob.status).toBe(404);
      expect(orderByBob.body.error).toBe('hold_not_found');
      expect(await countRows(db, `orders WHERE hold_id = ${Number(hold.body.id)}`)).toBe(0);

      expect((await a.http().get(`/api/holds/${hold.body.id}`).set('Authorization', alice)).body).toMatchObject({ id: hold.body.id, buyer: 'alice' });
      const order = await a.http().post('/api/orders').set('Authorization', alice).send({ hold_id: hold.body.id });
      expect(order.status).toBe(201);
      expect(order.body.buyer).toBe('alice');
      const readByBob = await a.http().get(`/api/orders/${order.body.id}`).set('Authorization', bob);
      expect(readByBob.status).toBe(404);
      expect(readByBob.body.error).toBe('order_not_found');
      expect((await a.http().get(`/api/orders/${order.body.id}`).set('Authorization', alice)).body).toMatchObject({ id: order.body.id, buyer: 'alice' });
      const listing = await a.http().get(`/api/orders?buyer=alice&product_id=${p.id}`).set('Authorization', `Bearer ${ADMIN}`);
      expect(listing.body.data.map((o: { id: number }) => o.id)).toEqual([order.body.id]);
      expect((await a.http().get(`/api/orders?buyer=bob&product_id=${p.id}`).set('Authorization', `Bearer ${ADMIN}`)).body.data).toEqual([]);
    });

    it('compares buyers byte for byte: a sub with a trailing space is another buyer', async () => {
      const alicePadded = buyerAuth('alice ', { audience: 'shop' });
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      const hold = await a.http().post('/api/holds').set('Authorization', alice).send({ product_id: p.id, qty: 1 }).expect(201);
      const order = await a.http().post('/api/orders').set('Authorization', alice).send({ hold_id: hold.body.id }).expect(201);
      expect((await a.http().get(`/api/holds/${hold.body.id}`).set('Authorization', alicePadded)).body.error).toBe('hold_not_found');
      expect((await a.http().get(`/api/orders/${order.body.id}`).set('Authorization', alicePadded)).body.error).toBe('order_not_found');
      const padded = await a.http().post('/api/holds').set('Authorization', alicePadded).send({ product_id: p.id, qty: 1 }).expect(201);
      expect(padded.body.buyer).toBe('alice ');
      expect((await a.http().get(`/api/holds/${padded.body.id}`).set('Authorization', alice)).status).toBe(404);
      expect((await a.http().post('/api/orders').set('Authorization', alice).send({ hold_id: padded.body.id })).status).toBe(404);
      expect((await a.http().get(`/api/orders?buyer=alice%20&product_id=${p.id}`).set('Authorization', `Bearer ${ADMIN}`)).body.data).toEqual([]);
      const listing = await a.http().get(`/api/orders?buyer=alice&product_id=${p.id}`).set('Authorization', `Bearer ${ADMIN}`);
      expect(listing.body.data.map((o: { id: number }) => o.id)).toEqual([order.body.id]);
    });

    it('scopes an Idempotency-Key to its buyer: the same key from another buyer is a request of its own', async () => {
      const carol = buyerAuth('carol', { audience: 'shop' });
      const dave = buyerAuth('dave', { audience: 'shop' });
      const p = await factories(a.dataSource).makeProduct({ stock: 5 });
      const key = `shared-${p.id}`;
      const first = await a.http().post('/api/holds').set('Authorization', carol).set('Idempotency-Key', key).send({ product_id: p.id, qty: 1 }).expect(201);
      const other = await a.http().post('/api/holds').set('Authorization', dave).set('Idempotency-Key', key).send({ product_id: p.id, qty: 1 }).expect(201);
      expect(other.headers['idempotent-replayed']).toBeUndefined();
      expect(other.body).toMatchObject({ buyer: 'dave' });
      expect(other.body.id).not.toBe(first.body.id);
      const replay = await a.http().post('/api/holds').set('Authorization', carol).set('Idempotency-Key', key).send({ product_id: p.id, qty: 1 }).expect(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
      // Another body from another buyer is not a reuse of carol's key either.
      const daveOrder = await a.http().post('/api/orders').set('Authorization', dave).set('Idempotency-Key', key).send({ hold_id: other.body.id }).expect(201);
      const carolOrder = await a
        .http()
        .post('/api/orders')
        .set('Authorization', carol)
        .set('Idempotency-Key', key)
        .send({ hold_id: first.body.id })
        .expect(201);
      expect(carolOrder.headers['idempotent-replayed']).toBeUndefined();
      expect(carolOrder.body).toMatchObject({ buyer: 'carol', hold_id: first.body.id });
      expect(daveOrder.body).toMatchObject({ buyer: 'dave', hold_id: other.body.id });
    });
  });

  describe('max_per_buyer', () => {
    const admin = { Authorization: 'Bearer buyers-admin' };
    let limited: TestApp;
    beforeAll(async () => {
      limited = await startTestApp(DB, { ...JWT_ENV, ADMIN_TOKEN: 'buyers-admin' }, { fresh: false });
    });
    afterAll(() => limited.close());

    async function limitedProduct(stock: number, max: number): Promise<number> {
      const res = await limited.http().post('/api/products').set(admin).send({ name: 'Drop', price: '10.00', stock, max_per_buyer: max });
      expect(res.status).toBe(201);
      expect(res.body.max_per_buyer).toBe(max);
      return res.body.id as number;
    }

    it('grants exactly the limit of 20 concurrent holds of one buyer over three instances; another buyer still gets units', async () => {
      const productId = await limitedProduct(100, 2);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => apps[i % 3].http().post('/api/holds').set('Authorization', alice).send({ product_id: productId, qty: 1 })),
      );
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(2);
      expect(statuses.filter((s) => s === 409)).toHaveLength(18);
      for (const r of answers.filter((x) => x.status === 409)) {
        expect(r.body).toMatchObject({ error: 'buyer_limit_reached', limit: 2, taken: 2 });
      }
      const [[row]] = (await db.query("SELECT COALESCE(SUM(qty),0) AS units FROM holds WHERE product_id = ? AND buyer = 'alice'", [productId])) as unknown as [
        Array<{ units: number }>,
      ];
      expect(Number(row.units)).toBe(2);
      const bobs = await a.http().post('/api/holds').set('Authorization', bob).send({ product_id: productId, qty: 2 });
      expect(bobs.status).toBe(201);
    });

    it('frees the allowance when a hold lapses and when an order is cancelled; paid units keep counting', async () => {
      const productId = await limitedProduct(100, 3);
      const hold = (qty: number) => a.http().post('/api/holds').set('Authorization', alice).send({ product_id: productId, qty });
      const first = await hold(1);
      const second = await hold(2);
      expect([first.status, second.status]).toEqual([201, 201]);
      expect((await hold(1)).body).toMatchObject({ error: 'buyer_limit_reached', limit: 3, taken: 3 });

      // The first hold's time runs out (its expires_at is moved into the past, as time would).
      await db.query('UPDATE holds SET expires_at = ? WHERE id = ?', [new Date(Date.now() - 1000), first.body.id]);
      const again = await hold(1);
      expect(again.status).toBe(201);

      // Two units paid: they keep counting.
      const paid = await a.http().post('/api/orders').set('Authorization', alice).send({ hold_id: second.body.id });
      expect(paid.status).toBe(201);
      expect((await sendWebhook(a, { idempotency_key: `pay-${paid.body.id}`, order_id: paid.body.id, status: 'success' })).body.order_status).toBe('paid');
      expect((await hold(1)).body).toMatchObject({ error: 'buyer_limit_reached', taken: 3 });

      // The one-unit order is cancelled: its unit is free for alice again.
      const cancelled = await a.http().post('/api/orders').set('Authorization', alice).send({ hold_id: again.body.id });
      expect(cancelled.status).toBe(201);
      const failure = await sendWebhook(a, { idempotency_key: `fail-${cancelled.body.id}`, order_id: cancelled.body.id, status: 'failure' });
      expect(failure.body.order_status).toBe('cancelled');
      expect((await hold(1)).status).toBe(201);
      expect((await hold(1)).body).toMatchObject({ error: 'buyer_limit_reached', taken: 3 });
    });

    it('counts a lapsed hold or order that another transaction holds (an order or a payment made at its last instant) until it is let go', async () => {
      const productId = await limitedProduct(100, 1);
      const hold = () => a.http().post('/api/holds').set('Authorization', alice).send({ product_id: productId, qty: 1 });
      /** Moves the row's time into the past, as time would, and runs `work` while another connection holds the row. */
      const whileLapsedAndHeld = async (table: 'holds' | 'orders', id: number, work: () => Promise<void>) => {
        await db.query(`UPDATE ${table} SET expires_at = ? WHERE id = ?`, [new Date(Date.now() - 1000), id]);
        const other = await connectTestDb(DB);
        try {
          await other.query('START TRANSACTION');
          await other.query(`SELECT id FROM ${table} WHERE id = ? FOR UPDATE`, [id]);
          await work();
          await other.query('ROLLBACK');
        } finally {
          await other.end();
        }
      };
      const first = await hold();
      expect(first.status).toBe(201);
      // A transaction that may be turning the lapsed hold into an order holds its row.
      await whileLapsedAndHeld('holds', first.body.id, async () => {
        expect((await hold()).body).toMatchObject({ error: 'buyer_limit_reached', limit: 1, taken: 1 });
      });
      const second = await hold();
      expect(second.status).toBe(201);

      // The same for a pending order whose payment window ran out while a payment holds its row.
      const order = await a.http().post('/api/orders').set('Authorization', alice).send({ hold_id: second.body.id });
      expect(order.status).toBe(201);
      await whileLapsedAndHeld('orders', order.body.id, async () => {
        expect((await hold()).body).toMatchObject({ error: 'buyer_limit_reached', limit: 1, taken: 1 });
      });
      expect((await hold()).status).toBe(201);
    });

    it('enforces a limit set, changed or removed between holds at the next hold, on every instance', async () => {
      const productId = (await limited.http().post('/api/products').set(admin).send({ name: 'Later limit', price: '1.00', stock: 50 })).body.id as number;
      const hold = (app: TestApp, qty: number) => app.http().post('/api/holds').set('Authorization', alice).send({ product_id: productId, qty });
      const limit = async (max: number | null) =>
        expect((await limited.http().patch(`/api/products/${productId}`).set(admin).send({ max_per_buyer: max })).status).toBe(200);
      // No limit yet: every instance takes holds without one.
      for (const app of apps) expect((await hold(app, 2)).status).toBe(201);
      await limit(7);
      // Each instance's first hold since the limit appeared, then the ones after it.
      expect((await hold(apps[0], 1)).status).toBe(201);
      expect((await hold(apps[1], 1)).body).toMatchObject({ error: 'buyer_limit_reached', limit: 7, taken: 7 });
      expect((await hold(apps[2], 1)).body).toMatchObject({ error: 'buyer_limit_reached', limit: 7, taken: 7 });
      expect((await hold(apps[0], 1)).body).toMatchObject({ error: 'buyer_limit_reached', limit: 7, taken: 7 });
      await limit(null);
      expect((await hold(apps[0], 1)).status).toBe(201);
      await limit(9);
      expect((await hold(apps[0], 1)).status).toBe(201);
      expect((await hold(apps[1], 1)).body).toMatchObject({ error: 'buyer_limit_reached', limit: 9, taken: 9 });
      await limit(10);
      expect((await hold(apps[1], 2)).body).toMatchObject({ error: 'buyer_limit_reached', limit: 10, taken: 9 });
      expect((await hold(apps[1], 1)).status).toBe(201);
    });

    it('is set, changed and removed by PATCH, alone or beside restock; bad values are 400 and change nothing', async () => {
      const productId = await limitedProduct(5, 1);
      const patch = (body: unknown) =>
        limited
          .http()
          .patch(`/api/products/${productId}`)
          .set(admin)
          .send(body as object);
      expect((await patch({ max_per_buyer: 4 })).body).toMatchObject({ max_per_buyer: 4, stock: 5 });
      expect((await patch({ max_per_buyer: null, restock: 1 })).body).toMatchObject({ max_per_buyer: null, stock: 6 });
      for (const bad of [{}, { max_per_buyer: 0 }, { max_per_buyer: 1000001 }, { max_per_buyer: '2' }, { max_per_buyer: 1.5 }, { restock: null }]) {
        const res = await patch(bad);
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('validation_failed');
      }
      expect((await limited.http().get(`/api/products/${productId}`)).body).toMatchObject({ max_per_buyer: null, stock: 6 });
    });
  });
});
