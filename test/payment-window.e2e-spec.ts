import { SchedulerRegistry } from '@nestjs/schedule';
import { HoldExpiryJob } from '../src/checkout/hold-expiry.job';
import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';
import { timed, untilInstant } from './helpers/wait';
import { sendWebhook } from './helpers/webhook';

const DB = 'fs_test_payment_window';

interface OrderBody {
  id: number;
  qty: number;
  status: string;
  expires_at: string;
  created_at: string;
  updated_at: string;
  refund_due: boolean;
}

describe('the payment window: an unpaid order expires exactly, and a late payment owes a refund', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(DB, { ORDER_PAYMENT_TTL_SECONDS: '2', AVAILABILITY_CACHE_TTL_MS: '0', HOLD_TTL_SECONDS: '600' });
    // "Before any job has run" must hold: this instance's job does not tick during the tests.
    void t.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
  });
  afterAll(() => t.close());

  async function placeOrder(app: TestApp, productId: number, qty: number): Promise<OrderBody> {
    const hold = await app.http().post('/api/holds').send({ product_id: productId, qty }).expect(201);
    return (await app.http().post('/api/orders').send({ hold_id: hold.body.id }).expect(201)).body as OrderBody;
  }
  const product = async (app: TestApp, id: number) => (await app.http().get(`/api/products/${id}`).expect(200)).body as { stock: number; available: number };
  const order = async (app: TestApp, id: number) => (await app.http().get(`/api/orders/${id}`).expect(200)).body as OrderBody;
  const stored = async (app: TestApp, table: 'orders' | 'products', id: number) =>
    (await app.dataSource.query<Array<Record<string, unknown>>>(`SELECT * FROM ${table} WHERE id = ?`, [id]))[0];
  const pastDeadline = (o: OrderBody) => untilInstant(Date.parse(o.expires_at) + 1);

  it('reads expired from its deadline on, frees its units at once for a new hold, and three sweepers mark it once', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 3 });
    const o = await placeOrder(t, p.id, 3);
    expect(Date.parse(o.expires_at) - Date.parse(o.created_at)).toBe(2000);
    // Inside the window (a read answered before the deadline): pending, its units taken.
    const inside = await timed(() => product(t, p.id));
    if (inside.done < Date.parse(o.expires_at)) expect(inside.value.available).toBe(0);

    await pastDeadline(o);
    await expect(order(t, o.id)).resolves.toMatchObject({ status: 'expired', refund_due: false });
    // No job has run (the sweep interval is an hour): the row is still pending, yet the units are free.
    expect(await stored(t, 'orders', o.id)).toMatchObject({ status: 'pending' });
    await expect(product(t, p.id)).resolves.toEqual(expect.objectContaining({ stock: 3, available: 3 }));
    await t.http().post('/api/holds').send({ product_id: p.id, qty: 3 }).expect(201);
    await expect(product(t, p.id)).resolves.toEqual(expect.objectContaining({ stock: 3, available: 0 }));

    const others = await Promise.all([1, 2].map(() => startTestApp(DB, { ORDER_PAYMENT_TTL_SECONDS: '2' }, { fresh: false })));
    try {
      const jobs = [t, ...others].map((app) => app.app.get(HoldExpiryJob));
      // Each instance's own job also ticks on start: whichever sweeps first, the order is marked
      // once, by one of them, and counted once.
      const swept = await Promise.all(jobs.map((job) => job.sweepOrders()));
      expect(swept.reduce((sum, s) => sum + s.orders, 0)).toBeLessThanOrEqual(1);
      const counted = await Promise.all(
        [t, ...others].map(async (app) => Number(/^orders_expired_total (\d+)$/m.exec((await app.http().get('/metrics').expect(200)).text)?.[1])),
      );
      expect(counted.reduce((sum, n) => sum + n, 0)).toBe(1);
    } finally {
      await Promise.all(others.map((app) => app.close()));
    }
    expect(await stored(t, 'orders', o.id)).toMatchObject({ status: 'expired' });
    // Released exactly once: only the new hold's 3 units are reserved.
    expect(await stored(t, 'products', p.id)).toMatchObject({ stock: 3, reserved: 3 });
  });

  it('a success after the deadline is late: the order stays expired, owes a refund, stock does not move; a failure is ignored; a redelivery is a duplicate', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 5 });
    const a = await placeOrder(t, p.id, 2);
    const b = await placeOrder(t, p.id, 1);
    await pastDeadline(b);

    const late = await sendWebhook(t, { idempotency_key: `late-a-${a.id}`, order_id: a.id, status: 'success' }).expect(200);
    expect(late.body).toEqual({ idempotency_key: `late-a-${a.id}`, order_id: a.id, result: 'late', order_status: 'expired' });
    await expect(order(t, a.id)).resolves.toMatchObject({ status: 'expired', refund_due: true });
    const again = await sendWebhook(t, { idempotency_key: `late-a-${a.id}`, order_id: a.id, status: 'success' }).expect(200);
    expect(again.body).toMatchObject({ result: 'duplicate', order_status: 'expired' });
    // Every success after the deadline is late, whatever its key.
    const other = await sendWebhook(t, { idempotency_key: `late-a2-${a.id}`, order_id: a.id, status: 'success' }).expect(200);
    expect(other.body).toMatchObject({ result: 'late', order_status: 'expired' });
    const failed = await sendWebhook(t, { idempotency_key: `fail-b-${b.id}`, order_id: b.id, status: 'failure' }).expect(200);
    expect(failed.body).toMatchObject({ result: 'ignored', order_status: 'expired' });
    await expect(order(t, b.id)).resolves.toMatchObject({ status: 'expired', refund_due: false });

    // Nothing was sold: every unit is back in the sale, and the payments expired the orders themselves.
    await expect(product(t, p.id)).resolves.toEqual(expect.objectContaining({ stock: 5, available: 5 }));
    expect(await stored(t, 'products', p.id)).toMatchObject({ stock: 5, reserved: 0 });
    expect(await stored(t, 'orders', a.id)).toMatchObject({ status: 'expired', refund_due: 1 });

    const list = async (query: string) =>
      ((await t.http().get(`/api/orders?product_id=${p.id}&${query}`).expect(200)).body.data as OrderBody[]).map((o) => o.id);
    await expect(list('refund_due=true')).resolves.toEqual([a.id]);
    await expect(list('refund_due=false')).resolves.toEqual([b.id]);
    await expect(list('status=expired')).resolves.toEqual([a.id, b.id]);
    await expect(list('status=pending')).resolves.toEqual([]);
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^webhook_events_total\{result="late"\} 2$/m);
  });

  it("an expired order's updated_at is its expires_at, before and after the sweep and after a late payment; a paid or cancelled one keeps its payment's time", async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const swept = await placeOrder(t, p.id, 1);
    const lateOnly = await placeOrder(t, p.id, 1);
    const paid = await placeOrder(t, p.id, 1);
    const cancelled = await placeOrder(t, p.id, 1);
    // Settled inside the window: each moment of change lies between sending its payment and its answer.
    const pay = await timed(() => sendWebhook(t, { idempotency_key: `upd-pay-${paid.id}`, order_id: paid.id, status: 'success' }).expect(200));
    const cancel = await timed(() => sendWebhook(t, { idempotency_key: `upd-cancel-${cancelled.id}`, order_id: cancelled.id, status: 'failure' }).expect(200));
    expect(pay.value.body).toMatchObject({ result: 'applied', order_status: 'paid' });
    expect(cancel.value.body).toMatchObject({ result: 'applied', order_status: 'cancelled' });
    const changedAt = async (id: number) => Date.parse((await order(t, id)).updated_at);
    const paidAt = await changedAt(paid.id);
    const cancelledAt = await changedAt(cancelled.id);
    expect(paidAt).toBeGreaterThanOrEqual(pay.sent);
    expect(paidAt).toBeLessThanOrEqual(pay.done);
    expect(cancelledAt).toBeGreaterThanOrEqual(cancel.sent);
    expect(cancelledAt).toBeLessThanOrEqual(cancel.done);

    await pastDeadline(cancelled);
    const listed = async () => new Map(((await t.http().get(`/api/orders?product_id=${p.id}`).expect(200)).body.data as OrderBody[]).map((o) => [o.id, o]));
    // Lapsed, not swept: stored pending and unchanged, yet it reads expired since its deadline.
    expect(await stored(t, 'orders', swept.id)).toMatchObject({ status: 'pending', updated_at: new Date(swept.created_at) });
    for (const read of [await order(t, swept.id), (await listed()).get(swept.id)]) {
      expect(read).toMatchObject({ status: 'expired', updated_at: swept.expires_at });
    }
    // Past their expires_at too, the paid and cancelled orders keep the time of their payment.
    for (const read of [await order(t, paid.id), (await listed()).get(paid.id)]) {
      expect(read).toMatchObject({ status: 'paid', updated_at: new Date(paidAt).toISOString() });
    }
    for (const read of [await order(t, cancelled.id), (await listed()).get(cancelled.id)]) {
      expect(read).toMatchObject({ status: 'cancelled', updated_at: new Date(cancelledAt).toISOString() });
    }

    // The sweep stores the moment the status changed, not its own.
    await t.app.get(HoldExpiryJob).sweepOrders();
    expect(await stored(t, 'orders', swept.id)).toMatchObject({ status: 'expired', updated_at: new Date(swept.expires_at) });
    await expect(order(t, swept.id)).resolves.toMatchObject({ status: 'expired', updated_at: swept.expires_at });
    expect((await listed()).get(swept.id)).toMatchObject({ status: 'expired', updated_at: swept.expires_at });
    // A late payment owes a refund but changes no status: swept or not, updated_at stays expires_at.
    await sendWebhook(t, { idempotency_key: `upd-late-${swept.id}`, order_id: swept.id, status: 'success' }).expect(200, {
      idempotency_key: `upd-late-${swept.id}`,
      order_id: swept.id,
      result: 'late',
      order_status: 'expired',
    });
    await sendWebhook(t, { idempotency_key: `upd-late-${lateOnly.id}`, order_id: lateOnly.id, status: 'success' }).expect(200);
    for (const o of [swept, lateOnly]) {
      expect(await stored(t, 'orders', o.id)).toMatchObject({ status: 'expired', refund_due: 1, updated_at: new Date(o.expires_at) });
      await expect(order(t, o.id)).resolves.toMatchObject({ status: 'expired', refund_due: true, updated_at: o.expires_at });
    }
    expect((await listed()).get(lateOnly.id)).toMatchObject({ status: 'expired', updated_at: lateOnly.expires_at });
  });

  it('a pending order past its deadline lists as expired, not pending; one inside it lists as pending', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 5 });
    const make = factories(t.dataSource);
    const open = await make.makeOrder({ productId: p.id, expiresAt: new Date(Date.now() + 600_000) });
    const lapsed = await make.makeOrder({ productId: p.id, expiresAt: new Date(Date.now() - 1) });
    const ids = async (status: string) =>
      ((await t.http().get(`/api/orders?product_id=${p.id}&status=${status}`).expect(200)).body.data as OrderBody[]).map((o) => o.id);
    await expect(ids('pending')).resolves.toEqual([open.id]);
    await expect(ids('expired')).resolves.toEqual([lapsed.id]);
    await t.http().get('/api/orders?refund_due=yes').expect(400);
  });
});

describe('racing the deadline: payments across it and holds taking the freed units account for every unit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(`${DB}_race`, { ORDER_PAYMENT_TTL_SECONDS: '1', AVAILABILITY_CACHE_TTL_MS: '0', HOLD_TTL_SECONDS: '600' });
  });
  afterAll(() => t.close());

  it('every unit ends sold once, held, or available; every late payment owes a refund', async () => {
    const STOCK = 40;
    const p = await factories(t.dataSource).makeProduct({ stock: STOCK });
    const orders: OrderBody[] = [];
    for (let i = 0; i < 20; i++) {
      const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201);
      orders.push((await t.http().post('/api/orders').send({ hold_id: hold.body.id }).expect(201)).body as OrderBody);
    }
    // Successes fired from 100 ms before each order's deadline to 90 ms after it, while 40 holds
    // (more than the 20 free units) try to take what the lapsing orders free.
    const payments = orders.map(async (o, i) => {
      await untilInstant(Date.parse(o.expires_at) - 100 + i * 10);
      return (await sendWebhook(t, { idempotency_key: `race-${o.id}`, order_id: o.id, status: 'success' }).expect(200)).body as {
        result: string;
        order_status: string;
      };
    });
    const holds = Array.from({ length: 40 }, async (_, i) => {
      await untilInstant(Date.parse(orders[0].expires_at) - 40 + i * 3);
      return t.http().post('/api/holds').send({ product_id: p.id, qty: 1 });
    });
    const results = await Promise.all(payments);
    const granted = (await Promise.all(holds)).filter((r) => r.status === 201).length;

    for (const r of results) {
      expect(['applied', 'late']).toContain(r.result);
      expect(r.order_status).toBe(r.result === 'applied' ? 'paid' : 'expired');
    }
    const finals = await Promise.all(orders.map(async (o) => (await t.http().get(`/api/orders/${o.id}`).expect(200)).body as OrderBody));
    for (const [i, o] of finals.entries()) {
      expect(o.status).toBe(results[i].result === 'applied' ? 'paid' : 'expired');
      expect(o.refund_due).toBe(results[i].result === 'late');
    }
    const paid = finals.filter((o) => o.status === 'paid').length;
    // 20 holds became the orders; the rest of the holds granted are still active (10 min).
    const [{ units: held }] = await t.dataSource.query<Array<{ units: string }>>(
      `SELECT COALESCE(SUM(qty), 0) AS units FROM holds WHERE product_id = ? AND status = 'active'`,
      [p.id],
    );
    expect(Number(held)).toBe(granted);
    const pendingUnits = finals.filter((o) => o.status === 'pending').length;
    const now = (await t.http().get(`/api/products/${p.id}`).expect(200)).body as { stock: number; available: number };
    expect(now.stock).toBe(STOCK - paid);
    expect(paid + Number(held) + pendingUnits + now.available).toBe(STOCK);
    expect(now.available).toBeGreaterThanOrEqual(0);

    // The sweep makes the rest final without moving a unit twice.
    await t.app.get(HoldExpiryJob).sweepOrders();
    const [row] = await t.dataSource.query<Array<{ stock: number; reserved: number }>>('SELECT stock, reserved FROM products WHERE id = ?', [p.id]);
    expect({ stock: Number(row.stock), reserved: Number(row.reserved) }).toEqual({ stock: STOCK - paid, reserved: Number(held) });
  });
});
