import { Connection } from 'mysql2/promise';
import { signBody } from '../src/http/signature';
import { connectTestDb, resetDatabase } from './helpers/test-app';
import { seededProductId, ServiceProcess, startService, STARTUP_TIMEOUT_MS, stopService } from './helpers/service-process';
import { sleep } from './helpers/wait';

const DB = 'fs_test_multi';
const SECRET = 'multi-secret';

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('three instances over one database and one Redis', () => {
  const services: ServiceProcess[] = [];
  let db: Connection;
  let productId: number;

  beforeAll(
    async () => {
      await resetDatabase(DB);
      const env = {
        HOLD_TTL_SECONDS: '6',
        HOLD_SWEEP_INTERVAL_SECONDS: '1',
        AVAILABILITY_CACHE_TTL_MS: '200',
        REDIS_URL: 'redis://127.0.0.1:6379',
        WEBHOOK_SECRET: SECRET,
        SEED_PRODUCT_STOCK: '200',
      };
      // The first start migrates and seeds; the other two find the schema ready.
      services.push(await startService(DB, env));
      productId = await seededProductId(services[0].url, 200);
      services.push(...(await Promise.all([startService(DB, env), startService(DB, env)])));
      db = await connectTestDb(DB);
    },
    2 * STARTUP_TIMEOUT_MS + 30_000,
  ); // one start, then two at once
  afterAll(async () => {
    await Promise.all(services.map((s) => stopService(s, 'SIGTERM')));
    await db?.end();
  });

  it('600 concurrent holds on stock 200 across three instances grant exactly 200; one webhook applies once; expiry releases each hold once', async () => {
    // The first hold granted is turned into an order at once, while the burst goes on: the order
    // then never depends on how long the burst takes against the 6 s hold lifetime.
    let order: { status: number; body: Record<string, unknown> } | undefined;
    const results = await Promise.all(
      Array.from({ length: 600 }, async (_, i) => {
        const hold = await post(services[i % 3].url, '/api/holds', { product_id: productId, qty: 1 });
        if (hold.status === 201 && !order) {
          order = { status: 0, body: {} };
          order = await post(services[0].url, '/api/orders', { hold_id: hold.body.id });
        }
        return hold;
      }),
    );
    const granted = results.filter((r) => r.status === 201);
    expect(granted).toHaveLength(200);
    expect(results.filter((r) => r.status === 409)).toHaveLength(400);
    expect(new Set(granted.map((r) => r.body.id)).size).toBe(200);

    // That order's payment, delivered concurrently to every instance, several times each.
    if (!order) throw new Error('no hold was granted');
    expect(order.status).toBe(201);
    const event = { idempotency_key: 'evt_multi_1', order_id: order.body.id, status: 'success' };
    const signature = signBody(JSON.stringify(event), SECRET);
    const hooks = await Promise.all(
      Array.from({ length: 15 }, (_, i) => post(services[i % 3].url, '/api/payments/webhook', event, { 'x-signature': signature })),
    );
    expect(hooks.map((h) => h.status)).toEqual(Array(15).fill(200));
    expect(hooks.filter((h) => h.body.result === 'applied')).toHaveLength(1);
    expect(hooks.filter((h) => h.body.result === 'duplicate')).toHaveLength(14);

    // All three expiry jobs run every second; wait for the 199 other holds to be swept.
    const deadline = Date.now() + 30_000;
    let active = -1;
    while (active !== 0 && Date.now() < deadline) {
      await sleep(500);
      const [[row]] = (await db.query(`SELECT COUNT(*) AS n FROM holds WHERE status = 'active'`)) as unknown as [[{ n: number }]];
      active = Number(row.n);
    }
    expect(active).toBe(0);
    const [[counts]] = (await db.query(`SELECT SUM(status = 'expired') AS expired, SUM(status = 'converted') AS converted FROM holds`)) as unknown as [
      [{ expired: number; converted: number }],
    ];
    expect({ expired: Number(counts.expired), converted: Number(counts.converted) }).toEqual({ expired: 199, converted: 1 });
    const [[p]] = (await db.query('SELECT stock, reserved FROM products WHERE id = ?', [productId])) as unknown as [[{ stock: number; reserved: number }]];
    // Released exactly once each: nothing reserved is left, the paid unit left the stock.
    expect({ stock: Number(p.stock), reserved: Number(p.reserved) }).toEqual({ stock: 199, reserved: 0 });
    for (const s of services) {
      const product = (await (await fetch(`${s.url}/api/products/${productId}`)).json()) as { stock: number; available: number };
      expect(product.stock).toBe(199);
    }
  });
});
