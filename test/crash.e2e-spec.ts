import { Connection } from 'mysql2/promise';
import { signBody } from '../src/http/signature';
import { runAudit } from './helpers/audit';
import { connectTestDb, resetDatabase } from './helpers/test-app';
import { seededProductId, ServiceProcess, startService, STARTUP_TIMEOUT_MS, stopService } from './helpers/service-process';
import { pollUntil, sleep } from './helpers/wait';

const DB = 'fs_test_crash';
const SECRET = 'crash-secret';
const ENV = {
  HOLD_TTL_SECONDS: '2',
  ORDER_PAYMENT_TTL_SECONDS: '3',
  HOLD_SWEEP_INTERVAL_SECONDS: '1',
  AVAILABILITY_CACHE_TTL_MS: '0',
  WEBHOOK_SECRET: SECRET,
  SEED_PRODUCT_STOCK: '150',
};

interface Seen {
  holds: Map<number, number>;
  orders: Map<number, number>;
  /** Webhook answers that said the order is now paid or cancelled. */
  finals: Map<number, string>;
}

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const raw = JSON.stringify(body);
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** One buyer: hold, order, pay or fail; records every success it was told about. */
async function buyer(url: string, productId: number, seen: Seen, i: number, until: () => boolean) {
  while (!until()) {
    try {
      const hold = await post(url, '/api/holds', { product_id: productId, qty: (i % 3) + 1 });
      if (hold.status !== 201) continue;
      seen.holds.set(hold.body.id as number, hold.body.qty as number);
      if (i % 4 === 0) continue; // some holds are left to expire
      const order = await post(url, '/api/orders', { hold_id: hold.body.id });
      if (order.status !== 201) continue;
      seen.orders.set(order.body.id as number, order.body.qty as number);
      if (i % 4 === 1) continue; // some orders stay pending
      const event = { idempotency_key: `evt_crash_${order.body.id as number}`, order_id: order.body.id, status: i % 2 ? 'success' : 'failure' };
      const raw = JSON.stringify(event);
      const hook = await post(url, '/api/payments/webhook', event, { 'x-signature': signBody(raw, SECRET) });
      if (hook.status === 200 && hook.body.result === 'applied') seen.finals.set(order.body.id as number, hook.body.order_status as string);
    } catch {
      return; // the process was killed under this request
    }
  }
}

describe('crash safety: SIGKILL mid-burst loses or double-counts nothing', () => {
  let service: ServiceProcess | undefined;
  let db: Connection;

  beforeAll(async () => {
    await resetDatabase(DB);
  });
  afterAll(async () => {
    await stopService(service);
    await db?.end();
  });

  it(
    'accounts for every unit after a kill and a restart',
    async () => {
      service = await startService(DB, ENV);
      const productId = await seededProductId(service.url, 150);
      const seen: Seen = { holds: new Map(), orders: new Map(), finals: new Map() };
      let killed = false;
      const buyers = Array.from({ length: 24 }, (_, i) => buyer(service!.url, productId, seen, i, () => killed));
      // Kill once the burst is well under way (holds granted, orders paid or cancelled), however
      // long this machine takes to get there; the buyers keep sending until the process is gone.
      await pollUntil(
        'the burst has granted more than 10 holds and settled a payment',
        () => ({ holds: seen.holds.size, orders: seen.orders.size, finals: seen.finals.size }),
        (n) => n.holds > 10 && n.finals > 0,
        { timeoutMs: 30_000 },
      );
      service.child.kill('SIGKILL');
      killed = true;
      await service.exited;
      await Promise.all(buyers);
      expect(seen.holds.size).toBeGreaterThan(10);

      // The ledger right after the kill, before anything else runs: every change of stock or
      // reserved that committed has its movements and no movement lacks its change.
      await expect(runAudit(DB)).resolves.toMatchObject({ code: 0, lines: [] });

      service = await startService(DB, ENV);
      db = await connectTestDb(DB);

      // Every answer the clients got is in the database, as they were told.
      const [holdRows] = await db.query('SELECT id, qty FROM holds');
      const holds = new Map((holdRows as Array<{ id: number; qty: number }>).map((h) => [Number(h.id), Number(h.qty)]));
      for (const [id, qty] of seen.holds) expect({ id, qty: holds.get(id) }).toEqual({ id, qty });
      const [orderRows] = await db.query('SELECT id, qty, status FROM orders');
      const orders = new Map((orderRows as Array<{ id: number; qty: number; status: string }>).map((o) => [Number(o.id), o]));
      for (const [id, qty] of seen.orders) expect({ id, qty: Number(orders.get(id)?.qty) }).toEqual({ id, qty });
      for (const [id, status] of seen.finals) expect({ id, status: orders.get(id)?.status }).toEqual({ id, status });

      // Once every hold and every unpaid order has expired and been swept (holds live 2 s, orders
      // 3 s): stock = initial − paid, and every other unit is available again.
      const deadline = Date.now() + 15_000;
      let open = 1;
      while (open > 0 && Date.now() < deadline) {
        await sleep(300);
        const [[row]] = (await db.query(
          `SELECT (SELECT COUNT(*) FROM holds WHERE status = 'active') + (SELECT COUNT(*) FROM orders WHERE status = 'pending') AS n`,
        )) as unknown as [[{ n: number }]];
        open = Number(row.n);
      }
      expect(open).toBe(0);
      const [finalRows] = await db.query('SELECT id, qty, status FROM orders');
      const finalOrders = finalRows as Array<{ qty: number; status: string }>;
      for (const o of finalOrders) expect(['paid', 'cancelled', 'expired']).toContain(o.status);
      const paid = finalOrders.filter((o) => o.status === 'paid').reduce((n, o) => n + Number(o.qty), 0);
      const product = (await (await fetch(`${service.url}/api/products/${productId}`)).json()) as { stock: number; available: number };
      expect(product.stock).toBe(150 - paid);
      expect(product.available).toBe(product.stock);
      const [[p]] = (await db.query('SELECT stock, reserved FROM products WHERE id = ?', [productId])) as unknown as [[{ stock: number; reserved: number }]];
      expect(Number(p.reserved)).toBe(0);

      // Every hold that exists was granted with exactly one `hold` movement, every order made with
      // one `order` movement, every paid order sold once; and the audit finds nothing.
      const [perHold] = (await db.query(
        `SELECT h.id, (SELECT COUNT(*) FROM stock_movements m WHERE m.product_id = h.product_id AND m.hold_id = h.id AND m.kind = 'hold') AS n FROM holds h`,
      )) as unknown as [Array<{ id: number; n: number }>];
      expect(perHold.filter((h) => Number(h.n) !== 1)).toEqual([]);
      const [perOrder] = (await db.query(
        `SELECT o.id, o.status,
                (SELECT COUNT(*) FROM stock_movements m WHERE m.product_id = o.product_id AND m.order_id = o.id AND m.kind = 'order') AS made,
                (SELECT COUNT(*) FROM stock_movements m WHERE m.product_id = o.product_id AND m.order_id = o.id AND m.kind = 'sale') AS sold
           FROM orders o`,
      )) as unknown as [Array<{ id: number; status: string; made: number; sold: number }>];
      expect(perOrder.filter((o) => Number(o.made) !== 1 || Number(o.sold) !== (o.status === 'paid' ? 1 : 0))).toEqual([]);
      await expect(runAudit(DB)).resolves.toMatchObject({ code: 0, lines: [] });
    },
    2 * STARTUP_TIMEOUT_MS + 60_000,
  ); // two starts, the burst (<= 30 s) and the sweep (<= 15 s)
});
