import { SchedulerRegistry } from '@nestjs/schedule';
import { HoldExpiryJob } from '../src/checkout/hold-expiry.job';
import { factories } from './factories';
import { runAudit } from './helpers/audit';
import { startTestApp, TestApp } from './helpers/test-app';
import { sendWebhook } from './helpers/webhook';

const DB = 'fs_test_ledger';
const TOKEN = 'ledger-admin-token';
const auth = { Authorization: `Bearer ${TOKEN}` };

interface Move {
  id: number;
  product_id: number;
  created_at: string;
  kind: string;
  stock_delta: number;
  reserved_delta: number;
  hold_id: number | null;
  order_id: number | null;
  payment_event_id: number | null;
}

describe('the stock ledger: every change of stock or reserved writes its movements', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(DB, { ADMIN_TOKEN: TOKEN, AVAILABILITY_CACHE_TTL_MS: '0' });
    // The expiry job runs only when a test calls it.
    void t.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Every movement of the product, read through the route, page by page (limit 2: the cursor is used). */
  async function movements(productId: number): Promise<Move[]> {
    const out: Move[] = [];
    let after = 0;
    for (;;) {
      const res = await t.http().get(`/api/products/${productId}/movements?limit=2&after_id=${after}`).set(auth).expect(200);
      const body = res.body as { data: Move[]; next_after_id: number | null };
      out.push(...body.data);
      if (body.next_after_id === null) return out;
      after = body.next_after_id;
    }
  }

  /** The movements written since `before`, without ids and times. */
  async function since(productId: number, before: Move[]): Promise<Array<Omit<Move, 'id' | 'product_id' | 'created_at'>>> {
    const seen = new Set(before.map((m) => m.id));
    return (await movements(productId)).filter((m) => !seen.has(m.id)).map(({ id: _id, created_at: _at, product_id: _p, ...rest }) => rest);
  }

  /** stock and reserved as stored equal the sums of the product's movements. */
  async function expectBalanced(productId: number): Promise<{ stock: number; reserved: number }> {
    const [row] = await t.dataSource.query('SELECT stock, reserved FROM products WHERE id = ?', [productId]);
    const all = await movements(productId);
    const sums = { stock: all.reduce((n, m) => n + m.stock_delta, 0), reserved: all.reduce((n, m) => n + m.reserved_delta, 0) };
    expect(sums).toEqual({ stock: Number(row.stock), reserved: Number(row.reserved) });
    return sums;
  }

  const move = (kind: string, stock: number, reserved: number, ids: Partial<Move> = {}) => ({
    kind,
    stock_delta: stock,
    reserved_delta: reserved,
    hold_id: null,
    order_id: null,
    payment_event_id: null,
    ...ids,
  });

  it('a product, a batch of holds, an order, a sale, a cancel and a restock', async () => {
    const created = await t.http().post('/api/products').set(auth).send({ name: 'Ledger', price: '10.00', stock: 5 }).expect(201);
    const id = created.body.id as number;
    expect(await since(id, [])).toEqual([move('opening', 5, 0)]);

    // Six holds of one unit at once on five units: five granted, one refused (no movement).
    let before = await movements(id);
    const answers = await Promise.all(Array.from({ length: 6 }, () => t.http().post('/api/holds').send({ product_id: id, qty: 1 })));
    const granted = answers.filter((a) => a.status === 201).map((a) => a.body.id as number);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 201, 201, 409]);
    expect((await since(id, before)).sort((a, b) => Number(a.hold_id) - Number(b.hold_id))).toEqual(
      granted.sort((a, b) => a - b).map((h) => move('hold', 0, 1, { hold_id: h })),
    );
    await expectBalanced(id);

    before = await movements(id);
    const paid = await t.http().post('/api/orders').send({ hold_id: granted[0] }).expect(201);
    const failed = await t.http().post('/api/orders').send({ hold_id: granted[1] }).expect(201);
    expect(await since(id, before)).toEqual([
      move('order', 0, 0, { hold_id: granted[0], order_id: paid.body.id }),
      move('order', 0, 0, { hold_id: granted[1], order_id: failed.body.id }),
    ]);

    before = await movements(id);
    await sendWebhook(t, { idempotency_key: 'ledger-pay', order_id: paid.body.id, status: 'success' }).expect(200);
    await sendWebhook(t, { idempotency_key: 'ledger-pay', order_id: paid.body.id, status: 'success' }).expect(200); // a duplicate moves nothing
    await sendWebhook(t, { idempotency_key: 'ledger-fail', order_id: failed.body.id, status: 'failure' }).expect(200);
    const events: Array<{ id: number; idempotency_key: string }> = await t.dataSource.query('SELECT id, idempotency_key FROM payment_events ORDER BY id');
    const event = (key: string) => Number(events.find((e) => e.idempotency_key === key)?.id);
    expect(await since(id, before)).toEqual([
      move('sale', -1, -1, { order_id: paid.body.id, payment_event_id: event('ledger-pay') }),
      move('cancel', 0, -1, { order_id: failed.body.id, payment_event_id: event('ledger-fail') }),
    ]);

    before = await movements(id);
    await t.http().patch(`/api/products/${id}`).set(auth).send({ restock: 7 }).expect(200);
    expect(await since(id, before)).toEqual([move('restock', 7, 0)]);
    await expect(expectBalanced(id)).resolves.toEqual({ stock: 11, reserved: 3 });
  });

  it('lapse by read: a reservation that takes lapsed units writes only its own hold; the sweep writes the lapse', async () => {
    const { makeProduct, makeHold } = factories(t.dataSource);
    const p = await makeProduct({ stock: 1 });
    const lapsed = await makeHold({ productId: p.id, qty: 1, expiresAt: new Date(Date.now() - 1000) });
    let before = await movements(p.id);
    const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201);
    expect(await since(p.id, before)).toEqual([move('hold', 0, 1, { hold_id: hold.body.id })]);
    // The lapsed hold's unit is still in reserved (and in the sums) until it is swept.
    await expect(expectBalanced(p.id)).resolves.toEqual({ stock: 1, reserved: 2 });

    before = await movements(p.id);
    await t.app.get(HoldExpiryJob).sweep();
    expect(await since(p.id, before)).toEqual([move('hold_lapsed', 0, -1, { hold_id: lapsed.id })]);
    await expect(expectBalanced(p.id)).resolves.toEqual({ stock: 1, reserved: 1 });
  });

  it('orders past their payment window: expired by the job, or by a late payment', async () => {
    const { makeProduct, makeOrder } = factories(t.dataSource);
    const p = await makeProduct({ stock: 4 });
    const past = new Date(Date.now() - 1000);
    const swept = await makeOrder({ productId: p.id, qty: 2, expiresAt: past });
    const late = await makeOrder({ productId: p.id, qty: 1, expiresAt: past });
    await expectBalanced(p.id);

    let before = await movements(p.id);
    await sendWebhook(t, { idempotency_key: 'ledger-late', order_id: late.id, status: 'success' }).expect(200);
    const [event] = await t.dataSource.query(`SELECT id FROM payment_events WHERE idempotency_key = 'ledger-late'`);
    expect(await since(p.id, before)).toEqual([move('order_expired', 0, -1, { order_id: late.id, payment_event_id: Number(event.id) })]);

    before = await movements(p.id);
    await t.app.get(HoldExpiryJob).sweepOrders();
    expect(await since(p.id, before)).toEqual([move('order_expired', 0, -2, { order_id: swept.id })]);
    await expect(expectBalanced(p.id)).resolves.toEqual({ stock: 4, reserved: 0 });
  });

  it('the whole database audits clean after all of it', async () => {
    await expect(runAudit(DB)).resolves.toMatchObject({ code: 0, lines: [] });
  });

  it('the listing: admin only, strict query, 404 for an unknown product, an empty page for one without movements after the cursor', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 3 });
    await t.http().get(`/api/products/${p.id}/movements`).expect(401);
    await t.http().get(`/api/products/${p.id}/movements`).set({ Authorization: 'Bearer nope' }).expect(401);
    const bad = await t.http().get(`/api/products/${p.id}/movements?limit=0&after_id=x&kind=hold`).set(auth).expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['after_id', 'kind', 'limit']);
    await t.http().get('/api/products/01/movements').set(auth).expect(400);
    const missing = await t.http().get('/api/products/9007199254740991/movements').set(auth).expect(404);
    expect(missing.body.error).toBe('product_not_found');
    const all = await t.http().get(`/api/products/${p.id}/movements`).set(auth).expect(200);
    expect(all.body).toMatchObject({ data: [{ kind: 'opening', stock_delta: 3, reserved_delta: 0 }], next_after_id: null });
    const after = await t.http().get(`/api/products/${p.id}/movements?after_id=${all.body.data[0].id}`).set(auth).expect(200);
    expect(after.body).toEqual({ data: [], next_after_id: null });
  });

  it('checks the path id before the query: a bad id is reported alone, whatever the query says', async () => {
    const ID_PROBLEM = [{ field: 'id', problem: 'must be an integer from 1 to 9007199254740991' }];
    for (const id of ['abc', '01', '0', '9007199254740992']) {
      for (const query of ['', '?foo=1', '?limit=0', '?limit=0&after_id=x&kind=hold', '?limit=1&limit=2']) {
        const res = await t.http().get(`/api/products/${id}/movements${query}`).set(auth);
        expect({ id, query, status: res.status, details: res.body.details as unknown }).toEqual({ id, query, status: 400, details: ID_PROBLEM });
      }
    }
    // With a good id the query is checked: every bad parameter is reported.
    const p = await factories(t.dataSource).makeProduct({ stock: 1 });
    const bad = await t.http().get(`/api/products/${p.id}/movements?foo=1&limit=0`).set(auth).expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['foo', 'limit']);
  });
});
