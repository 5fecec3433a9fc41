import { SchedulerRegistry } from '@nestjs/schedule';
import { HoldExpiryJob } from '../src/checkout/hold-expiry.job';
import { factories } from './factories';
import { connectTestDb, startTestApp, TestApp } from './helpers/test-app';
import { blockedOnRowLock } from './helpers/row-lock';
import { sleep, timed, untilInstant } from './helpers/wait';

const DB = 'fs_test_expiry';
/** How many times a step that must finish within a hold's 1 s life is tried before the test gives up. */
const ATTEMPTS = 5;

describe('hold expiry is exact at every moment', () => {
  let t: TestApp;
  let make: ReturnType<typeof factories>;

  beforeAll(async () => {
    t = await startTestApp(DB, { HOLD_TTL_SECONDS: '1', AVAILABILITY_CACHE_TTL_MS: '0', HOLD_SWEEP_INTERVAL_SECONDS: '3600' });
    make = factories(t.dataSource);
    // The job sweeps on its first tick after start (and then hourly). Only the tests' own sweep()
    // calls may sweep this application, so "the sweep has not run" is a fact, not a matter of timing.
    void t.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
  });
  afterAll(() => t.close());

  const available = async (id: number) => (await t.http().get(`/api/products/${id}`).expect(200)).body.available as number;
  const storedStatus = async (holdId: number) =>
    (await t.dataSource.query<Array<{ status: string }>>('SELECT status FROM holds WHERE id = ?', [holdId]))[0].status;

  it('an expired hold frees its units before the sweep runs, and its order is 410', async () => {
    // Before expiry: the one unit is held, a second hold is refused and nothing is available. These
    // answers only mean that if they were given before the hold's expires_at, i.e. if the last of
    // them arrived before it; a machine too slow for that (1 s) gets another try on a new product.
    let live: { productId: number; holdId: number; expiresAt: number } | undefined;
    for (let attempt = 1; attempt <= ATTEMPTS && !live; attempt++) {
      const p = await make.makeProduct({ stock: 1 });
      const first = await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201);
      const expiresAt = Date.parse(first.body.expires_at);
      const refused = await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 });
      const left = await timed(() => available(p.id));
      if (left.done < expiresAt) {
        expect(refused.status).toBe(409);
        expect(left.value).toBe(0);
        live = { productId: p.id, holdId: first.body.id, expiresAt };
      }
    }
    if (!live) throw new Error(`no attempt of ${ATTEMPTS} answered three requests within the 1 s life of its hold`);
    const { productId, holdId, expiresAt } = live;

    // Wait until the service itself reads the hold as expired. Every read answered before
    // expires_at must say active; every read sent at or after it must say expired.
    const deadline = expiresAt + 15_000;
    for (;;) {
      const read = await timed(() => t.http().get(`/api/holds/${holdId}`).expect(200));
      const status = read.value.body.status as string;
      if (read.done < expiresAt) expect(status).toBe('active');
      if (read.sent >= expiresAt) expect(status).toBe('expired');
      if (status === 'expired') break;
      expect(status).toBe('active');
      if (Date.now() > deadline) throw new Error(`hold ${holdId} still reads active 15 s after its expires_at`);
      await sleep(Math.max(1, Math.min(50, expiresAt - Date.now())));
    }
    // The service saw the clock at or past expires_at, and every request from now on is later still.
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);

    expect(await storedStatus(holdId)).toBe('active'); // the sweep has not run
    expect(await available(productId)).toBe(1);
    await t
      .http()
      .get(`/api/holds/${holdId}`)
      .expect(200)
      .expect((r) => expect(r.body.status).toBe('expired'));
    await t.http().post('/api/orders').send({ hold_id: holdId }).expect(410, {
      statusCode: 410,
      error: 'hold_expired',
      message: 'The hold has expired.',
    });

    // The freed unit can be held again, and that hold, while it lives, becomes an order. An order
    // answered 201 must have been asked for before the hold's expires_at; a 410 is only right if
    // the answer came after it (then the unit is free again and the step is tried once more).
    let ordered = false;
    for (let attempt = 1; attempt <= ATTEMPTS && !ordered; attempt++) {
      const second = await t.http().post('/api/holds').send({ product_id: productId, qty: 1 }).expect(201);
      const secondExpiresAt = Date.parse(second.body.expires_at);
      const left = await timed(() => available(productId));
      const order = await timed(() => t.http().post('/api/orders').send({ hold_id: second.body.id }));
      if (order.value.status === 201 || order.done < secondExpiresAt) {
        expect(order.value.status).toBe(201);
        expect(order.sent).toBeLessThan(secondExpiresAt);
        expect(left.value).toBe(0);
        ordered = true;
      } else {
        expect(order.value.status).toBe(410);
        if (left.done < secondExpiresAt) expect(left.value).toBe(0);
        if (left.sent >= secondExpiresAt) expect(left.value).toBe(1);
      }
    }
    if (!ordered) throw new Error(`no attempt of ${ATTEMPTS} turned a hold into an order within the hold's 1 s life`);
    expect(await available(productId)).toBe(0);
  });

  it('a hold that waited for the product row lock longer than its life is granted with its full life, not dead on arrival', async () => {
    const p = await make.makeProduct({ stock: 1 });
    const locker = await connectTestDb(DB);
    try {
      // The reservation waits on the row lock (a restock, a sweep, a slow transaction holding it).
      const [pending] = await blockedOnRowLock(locker, p.id, 1, () =>
        t
          .http()
          .post('/api/holds')
          .send({ product_id: p.id, qty: 1 })
          .then((r) => r),
      );
      // Whatever clock reading the reservation took so far, it took it before this instant; keep
      // the lock for a whole hold life (HOLD_TTL_SECONDS=1) after it.
      await untilInstant(Date.now() + 1000);
      const released = Date.now();
      await locker.query('ROLLBACK');
      const granted = await pending;
      expect(granted.status).toBe(201);
      expect(granted.body.status).toBe('active');
      // Its life starts when it is granted, so it can still become an order.
      expect(Date.parse(granted.body.created_at)).toBeGreaterThanOrEqual(released);
      expect(Date.parse(granted.body.expires_at) - Date.parse(granted.body.created_at)).toBe(1000);
      const read = await timed(() => t.http().get(`/api/holds/${granted.body.id}`).expect(200));
      if (read.done < Date.parse(granted.body.expires_at)) expect(read.value.body).toEqual(granted.body);
    } finally {
      await locker.end();
    }
  });

  it('a lapsed hold or order that another request holds at that instant still counts against a new hold until that request ends', async () => {
    const p = await make.makeProduct({ stock: 4 });
    const past = new Date(Date.now() - 1000);
    const lapsedHold = await make.makeHold({ productId: p.id, qty: 2, expiresAt: past });
    const lapsedOrder = await make.makeOrder({ productId: p.id, qty: 2, expiresAt: past });
    const all = () => t.http().post('/api/holds').send({ product_id: p.id, qty: 4 });
    for (const [table, id] of [
      ['holds', lapsedHold.id],
      ['orders', lapsedOrder.id],
    ] as const) {
      const other = await connectTestDb(DB);
      try {
        // As an order being made of the hold, or a payment being applied to the order, would.
        await other.query('START TRANSACTION');
        await other.query(`SELECT id FROM ${table} WHERE id = ? FOR UPDATE`, [id]);
        // A product read locks nothing and shows the lapsed units as free; the reservation, which
        // cannot know whether that request is about to make them count for good, does not take them.
        expect(await available(p.id)).toBe(4);
        expect((await all()).body).toMatchObject({ statusCode: 409, error: 'insufficient_stock', available: 2 });
        await other.query('ROLLBACK');
      } finally {
        await other.end();
      }
    }
    await all().expect(201);
  });

  it('two sweeps at once mark a lapsed hold expired exactly once and release its units once', async () => {
    const p = await make.makeProduct({ stock: 10 });
    const lapsed = await make.makeHold({ productId: p.id, qty: 3, expiresAt: new Date(Date.now() - 1000) });
    const live = await make.makeHold({ productId: p.id, qty: 2, expiresAt: new Date(Date.now() + 60_000) });
    expect(await available(p.id)).toBe(8);

    const job = t.app.get(HoldExpiryJob);
    const now = new Date();
    const [due] = await t.dataSource.query(`SELECT COUNT(*) AS holds, COALESCE(SUM(qty), 0) AS units FROM holds WHERE status = 'active' AND expires_at <= ?`, [
      now,
    ]);
    expect(Number(due.holds)).toBeGreaterThanOrEqual(1);
    const results = await Promise.all([job.sweep(now), job.sweep(now), job.sweep(now)]);
    expect(results.reduce((n, r) => n + r.holds, 0)).toBe(Number(due.holds));
    expect(results.reduce((n, r) => n + r.units, 0)).toBe(Number(due.units));
    expect(await storedStatus(lapsed.id)).toBe('expired');
    expect(await storedStatus(live.id)).toBe('active');
    const [row] = await t.dataSource.query('SELECT stock, reserved FROM products WHERE id = ?', [p.id]);
    expect({ stock: Number(row.stock), reserved: Number(row.reserved) }).toEqual({ stock: 10, reserved: 2 });
    expect(await available(p.id)).toBe(8);
    // The swept hold stays readable, and an order for it stays 410 (not 404).
    await t
      .http()
      .get(`/api/holds/${lapsed.id}`)
      .expect(200)
      .expect((r) => expect(r.body.status).toBe('expired'));
    await t.http().post('/api/orders').send({ hold_id: lapsed.id }).expect(410);
  });

  it('the scheduled job sweeps by itself every HOLD_SWEEP_INTERVAL_SECONDS', async () => {
    const auto = await startTestApp('fs_test_expiry_cron', { HOLD_TTL_SECONDS: '1', HOLD_SWEEP_INTERVAL_SECONDS: '1', AVAILABILITY_CACHE_TTL_MS: '0' });
    try {
      const p = await factories(auto.dataSource).makeProduct({ stock: 4 });
      const hold = await auto.http().post('/api/holds').send({ product_id: p.id, qty: 4 }).expect(201);
      const deadline = Date.now() + 8000;
      let status = 'active';
      while (status === 'active' && Date.now() < deadline) {
        await sleep(250);
        status = (await auto.dataSource.query<Array<{ status: string }>>('SELECT status FROM holds WHERE id = ?', [hold.body.id]))[0].status;
      }
      expect(status).toBe('expired');
      const [row] = await auto.dataSource.query('SELECT reserved FROM products WHERE id = ?', [p.id]);
      expect(Number(row.reserved)).toBe(0);
    } finally {
      await auto.close();
    }
  });

  it('holds racing the expiry of others never oversell', async () => {
    const p = await make.makeProduct({ stock: 5 });
    await Promise.all(Array.from({ length: 5 }, () => make.makeHold({ productId: p.id, qty: 1, expiresAt: new Date(Date.now() - 10) })));
    const job = t.app.get(HoldExpiryJob);
    const [holds] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }))),
      job.sweep(),
      job.sweep(),
    ]);
    expect(holds.filter((r) => r.status === 201)).toHaveLength(5);
    await job.sweep();
    const [row] = await t.dataSource.query(
      `SELECT p.reserved, (SELECT COALESCE(SUM(qty), 0) FROM holds WHERE product_id = p.id AND status = 'active') AS active_units
         FROM products p WHERE p.id = ?`,
      [p.id],
    );
    // Each expired hold was released once: what stays reserved is exactly the still-active holds.
    expect(Number(row.reserved)).toBe(Number(row.active_units));
    expect(Number(row.active_units)).toBeLessThanOrEqual(5);
  });
});
