import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_orders';

describe('orders: one per hold', () => {
  let t: TestApp;
  let make: ReturnType<typeof factories>;

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' });
    make = factories(t.dataSource);
  });
  afterAll(() => t.close());

  it('100 concurrent orders for one hold: one 201, 99 × 409 hold_already_used naming the order', async () => {
    const p = await make.makeProduct({ stock: 10, price: '19.95' });
    const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty: 3 }).expect(201);
    const results = await Promise.all(Array.from({ length: 100 }, () => t.http().post('/api/orders').send({ hold_id: hold.body.id })));
    const created = results.filter((r) => r.status === 201);
    const conflicts = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(conflicts).toHaveLength(99);
    const orderId = created[0].body.id;
    for (const r of conflicts) {
      expect(r.body).toEqual({
        statusCode: 409,
        error: 'hold_already_used',
        message: expect.any(String),
        order_id: orderId,
      });
    }
    expect(created[0].body).toEqual({
      id: orderId,
      hold_id: hold.body.id,
      product_id: p.id,
      qty: 3,
      unit_price: '19.95',
      total: '59.85',
      status: 'pending',
      expires_at: expect.stringMatching(/Z$/),
      refund_due: false,
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      buyer: null,
    });
    // Payable for ORDER_PAYMENT_TTL_SECONDS (default 900) from its creation.
    expect(Date.parse(created[0].body.expires_at) - Date.parse(created[0].body.created_at)).toBe(900_000);
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM orders WHERE hold_id = ?', [hold.body.id]);
    expect(Number(n)).toBe(1);
    // The pending order keeps its units reserved; the hold reads as converted.
    const product = await t.http().get(`/api/products/${p.id}`).expect(200);
    expect(product.body).toMatchObject({ stock: 10, available: 7 });
    await t
      .http()
      .get(`/api/holds/${hold.body.id}`)
      .expect(200)
      .expect((r) => expect(r.body.status).toBe('converted'));
  });

  it('GET /api/orders/:id shows the order with its product', async () => {
    const p = await make.makeProduct({ stock: 5, name: 'Blue cap', price: '10.00' });
    const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty: 2 }).expect(201);
    const order = await t.http().post('/api/orders').send({ hold_id: hold.body.id }).expect(201);
    const res = await t.http().get(`/api/orders/${order.body.id}`).expect(200);
    expect(res.body).toEqual({ ...order.body, product: { id: p.id, name: 'Blue cap' } });
    await t.http().get('/api/orders/424242').expect(404, { statusCode: 404, error: 'order_not_found', message: 'Order not found.' });
  });

  it('an unknown hold is 404 hold_not_found', async () => {
    await t.http().post('/api/orders').send({ hold_id: 777777 }).expect(404, {
      statusCode: 404,
      error: 'hold_not_found',
      message: 'Hold not found.',
    });
  });

  it('orders for many holds of one product at once all succeed and keep every unit reserved', async () => {
    const p = await make.makeProduct({ stock: 40 });
    const holds = await Promise.all(Array.from({ length: 40 }, () => t.http().post('/api/holds').send({ product_id: p.id, qty: 1 })));
    expect(holds.every((h) => h.status === 201)).toBe(true);
    const orders = await Promise.all(holds.map((h) => t.http().post('/api/orders').send({ hold_id: h.body.id })));
    expect(orders.every((o) => o.status === 201)).toBe(true);
    await t
      .http()
      .get(`/api/products/${p.id}`)
      .expect(200)
      .expect((r) => expect(r.body).toMatchObject({ stock: 40, available: 0 }));
  });
});
