import { HoldExpiryJob } from '../src/checkout/hold-expiry.job';
import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_expiry';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('hold expiry is exact at every moment', () => {
  let t: TestApp;
  let make: ReturnType<typeof factories>;

  beforeAll(async () => {
    t = await startTestApp(DB, { HOLD_TTL_SECONDS: '1', AVAILABILITY_CACHE_TTL_MS: '0', HOLD_SWEEP_INTERVAL_SECONDS: '3600' });
    make = factories(t.dataSource);
  });
  afterAll(() => t.close());

  const available = async (id: number) => (await t.http().get(`/api/products/${id}`).expect(200)).body.available as number;
  const storedStatus = async (holdId: number) =>
    ((await t.dataSource.query('SELECT status FROM holds WHERE id = ?', [holdId])) as Array<{ status: string }>)[0].status;

  it('an expired hold frees its units before the sweep runs, and its order is 410', async () => {
    const p = await make.makeProduct({ stock: 1 });
    const first = await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201);
    await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(409);
    expect(await available(p.id)).toBe(0);

    await sleep(1100);
    expect(await storedStatus(first.body.id)).toBe('active'); // the sweep has not run
    expect(await available(p.id)).toBe(1);
    await t.http().get(`/api/holds/${first.body.id}`).expect(200).expect((r) => expect(r.body.status).toBe('expired'));
    await t.http().post('/api/orders').send({ hold_id: first.body.id }).expect(410, {
      statusCode: 410,
      error: 'hold_expired',
      message: 'The hold has expired.',
    });
    const second = await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201);
    expect(await available(p.id)).toBe(0);
    await t.http().post('/api/orders').send({ hold_id: second.body.id }).expect(201);
  });

  it('two sweeps at once mark a lapsed hold expired exactly once and release its units once', async () => {
    const p = await make.makeProduct({ stock: 10 });
    const lapsed = await make.makeHold({ productId: p.id, qty: 3, expiresAt: new Date(Date.now() - 1000) });
    const live = await make.makeHold({ productId: p.id, qty: 2, expiresAt: new Date(Date.now() + 60_000) });
    expect(await available(p.id)).toBe(8);

    const job = t.app.get(HoldExpiryJob);
    const now = new Date();
    const [due] = await t.dataSource.query(
      `SELECT COUNT(*) AS holds, COALESCE(SUM(qty), 0) AS units FROM holds WHERE status = 'active' AND expires_at <= ?`,
      [now],
    );
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
    await t.http().get(`/api/holds/${lapsed.id}`).expect(200).expect((r) => expect(r.body.status).toBe('expired'));
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
        status = ((await auto.dataSource.query('SELECT status FROM holds WHERE id = ?', [hold.body.id])) as Array<{ status: string }>)[0].status;
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
