import { signBody } from '../src/http/signature';
import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';
import { sendWebhook } from './helpers/webhook';

const DB = 'fs_test_webhook';

describe('payment webhook: signed, idempotent, out-of-order safe', () => {
  let t: TestApp;
  let make: ReturnType<typeof factories>;
  let seq = 0;
  const key = (name: string) => `evt_${name}_${++seq}`;

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0', WEBHOOK_SECRET: 'test-secret' });
    make = factories(t.dataSource);
  });
  afterAll(() => t.close());

  async function product(id: number) {
    return (await t.http().get(`/api/products/${id}`).expect(200)).body as { stock: number; available: number };
  }

  /** A product with a pending order of `qty` units made through the API. */
  async function pendingOrder(stock: number, qty: number) {
    const p = await make.makeProduct({ stock });
    const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty }).expect(201);
    const order = await t.http().post('/api/orders').send({ hold_id: hold.body.id }).expect(201);
    return { productId: p.id, orderId: order.body.id as number };
  }

  /** The contract's response: the event's key and order, what it did, the order's status. */
  const answer = (body: { idempotency_key: string; order_id: number }, result: string, order_status: string | null) => ({
    idempotency_key: body.idempotency_key,
    order_id: body.order_id,
    result,
    order_status,
  });

  async function eventCount(idempotencyKey: string) {
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM payment_events WHERE idempotency_key = ?', [idempotencyKey]);
    return Number(n);
  }

  it('the same key delivered 20 times at once is applied once: paid, stock down by qty once', async () => {
    const { productId, orderId } = await pendingOrder(10, 3);
    const body = { idempotency_key: key('burst'), order_id: orderId, status: 'success' };
    const results = await Promise.all(Array.from({ length: 20 }, () => sendWebhook(t, body)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const applied = results.filter((r) => r.body.result === 'applied');
    const duplicates = results.filter((r) => r.body.result === 'duplicate');
    expect(applied).toHaveLength(1);
    expect(duplicates).toHaveLength(19);
    expect(applied[0].body).toEqual(answer(body, 'applied', 'paid'));
    for (const d of duplicates) expect(d.body).toEqual(answer(body, 'duplicate', 'paid'));
    await t
      .http()
      .get(`/api/orders/${orderId}`)
      .expect(200)
      .expect((r) => expect(r.body.status).toBe('paid'));
    await expect(product(productId)).resolves.toEqual(expect.objectContaining({ stock: 7, available: 7 }));
  });

  it('failure cancels and returns the units; a later success with a new key is ignored', async () => {
    const { productId, orderId } = await pendingOrder(5, 2);
    await expect(product(productId)).resolves.toMatchObject({ stock: 5, available: 3 });
    const fail = await sendWebhook(t, { idempotency_key: key('fail'), order_id: orderId, status: 'failure' }).expect(200);
    expect(fail.body).toMatchObject({ result: 'applied', order_status: 'cancelled' });
    await expect(product(productId)).resolves.toMatchObject({ stock: 5, available: 5 });
    const late = await sendWebhook(t, { idempotency_key: key('late'), order_id: orderId, status: 'success' }).expect(200);
    expect(late.body).toMatchObject({ result: 'ignored', order_status: 'cancelled' });
    await expect(product(productId)).resolves.toMatchObject({ stock: 5, available: 5 });
    await t
      .http()
      .get(`/api/orders/${orderId}`)
      .expect(200)
      .expect((r) => expect(r.body.status).toBe('cancelled'));
  });

  it('success then failure with a new key: the order stays paid', async () => {
    const { productId, orderId } = await pendingOrder(5, 1);
    await sendWebhook(t, { idempotency_key: key('ok'), order_id: orderId, status: 'success' }).expect(200);
    const after = await sendWebhook(t, { idempotency_key: key('after'), order_id: orderId, status: 'failure' }).expect(200);
    expect(after.body).toMatchObject({ result: 'ignored', order_status: 'paid' });
    await expect(product(productId)).resolves.toMatchObject({ stock: 4, available: 4 });
  });

  it('a key reused with another status or order is 422 and changes nothing', async () => {
    const { productId, orderId } = await pendingOrder(5, 1);
    const other = await pendingOrder(5, 1);
    const k = key('reuse');
    await sendWebhook(t, { idempotency_key: k, order_id: orderId, status: 'failure' }).expect(200);
    const before = await product(productId);
    for (const body of [
      { idempotency_key: k, order_id: orderId, status: 'success' },
      { idempotency_key: k, order_id: other.orderId, status: 'failure' },
    ]) {
      const res = await sendWebhook(t, body).expect(422);
      expect(res.body).toMatchObject({ statusCode: 422, error: 'idempotency_key_reused' });
    }
    await expect(product(productId)).resolves.toEqual(before);
    await t
      .http()
      .get(`/api/orders/${other.orderId}`)
      .expect(200)
      .expect((r) => expect(r.body.status).toBe('pending'));
    expect(await eventCount(k)).toBe(1);
  });

  it('a missing or wrong signature is 401 and records nothing; the good delivery afterwards applies', async () => {
    const { productId, orderId } = await pendingOrder(5, 2);
    const body = { idempotency_key: key('sig'), order_id: orderId, status: 'success' };
    const raw = JSON.stringify(body);
    for (const signature of [null, 'sha256=' + '0'.repeat(64), 'not-a-signature', 'sha256=' + 'zz'.repeat(32)]) {
      const res = await sendWebhook(t, raw, { signature }).expect(401);
      expect(res.body).toEqual({ statusCode: 401, error: 'invalid_signature', message: expect.any(String) });
    }
    await sendWebhook(t, raw, { secret: 'another-secret' }).expect(401);
    // Signed over other bytes than the ones sent.
    await sendWebhook(t, raw.replace('"success"', '"success" '), { signature: signBody(raw, 'test-secret') }).expect(401);
    expect(await eventCount(body.idempotency_key)).toBe(0);
    await expect(product(productId)).resolves.toMatchObject({ stock: 5, available: 3 });
    const ok = await sendWebhook(t, raw).expect(200);
    expect(ok.body).toMatchObject({ result: 'applied', order_status: 'paid' });
  });

  it.each(['success', 'failure'] as const)('a %s webhook before its order exists is deferred, then applied by the order creation', async (status) => {
    const p = await make.makeProduct({ stock: 6 });
    const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty: 2 }).expect(201);
    const next = await make.pinNextOrderId();
    const body = { idempotency_key: key(`early_${status}`), order_id: next, status };
    const early = await sendWebhook(t, body).expect(202);
    expect(early.body).toEqual(answer(body, 'deferred', null));
    await sendWebhook(t, body).expect(202, answer(body, 'deferred', null));

    const order = await t.http().post('/api/orders').send({ hold_id: hold.body.id }).expect(201);
    expect(order.body.id).toBe(next);
    const final = status === 'success' ? 'paid' : 'cancelled';
    expect(order.body.status).toBe(final);
    await expect(product(p.id)).resolves.toMatchObject(status === 'success' ? { stock: 4, available: 4 } : { stock: 6, available: 6 });

    const again = await sendWebhook(t, body).expect(200);
    expect(again.body).toEqual(answer(body, 'duplicate', final));
    await expect(product(p.id)).resolves.toMatchObject(status === 'success' ? { stock: 4, available: 4 } : { stock: 6, available: 6 });
  });

  it('several early events for one order: the first recorded wins, the rest act as if they came after', async () => {
    const p = await make.makeProduct({ stock: 3 });
    const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201);
    const next = await make.pinNextOrderId();
    const first = { idempotency_key: key('first'), order_id: next, status: 'success' };
    const second = { idempotency_key: key('second'), order_id: next, status: 'failure' };
    await sendWebhook(t, first).expect(202);
    await sendWebhook(t, second).expect(202);
    const order = await t.http().post('/api/orders').send({ hold_id: hold.body.id }).expect(201);
    expect(order.body.id).toBe(next);
    expect(order.body.status).toBe('paid');
    await sendWebhook(t, first).expect(200, answer(first, 'duplicate', 'paid'));
    await sendWebhook(t, second).expect(200, answer(second, 'duplicate', 'paid'));
    const third = await sendWebhook(t, { idempotency_key: key('third'), order_id: next, status: 'failure' }).expect(200);
    expect(third.body).toMatchObject({ result: 'ignored', order_status: 'paid' });
    await expect(product(p.id)).resolves.toMatchObject({ stock: 2, available: 2 });
  });

  it('a webhook racing the creation of its order is never lost', async () => {
    const p = await make.makeProduct({ stock: 40 });
    for (let i = 0; i < 15; i++) {
      const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201);
      const next = await make.pinNextOrderId();
      const body = { idempotency_key: key('race'), order_id: next, status: 'success' };
      const [order, hook] = await Promise.all([t.http().post('/api/orders').send({ hold_id: hold.body.id }), sendWebhook(t, body)]);
      expect(order.status).toBe(201);
      expect(order.body.id).toBe(next);
      expect([200, 202]).toContain(hook.status);
      const stored = await t.http().get(`/api/orders/${order.body.id}`).expect(200);
      expect(stored.body.status).toBe('paid');
    }
    await expect(product(p.id)).resolves.toMatchObject({ stock: 25, available: 25 });
  });

  it.each([
    ['missing key', { order_id: 1, status: 'success' }, 'idempotency_key'],
    ['empty key', { idempotency_key: '', order_id: 1, status: 'success' }, 'idempotency_key'],
    ['300-char key', { idempotency_key: 'k'.repeat(300), order_id: 1, status: 'success' }, 'idempotency_key'],
    ['non-printable key', { idempotency_key: 'evt\u0007bell', order_id: 1, status: 'success' }, 'idempotency_key'],
    ['non-ASCII key', { idempotency_key: 'evt_é', order_id: 1, status: 'success' }, 'idempotency_key'],
    ['numeric key', { idempotency_key: 12345, order_id: 1, status: 'success' }, 'idempotency_key'],
    ['unknown status', { idempotency_key: 'evt_x', order_id: 1, status: 'refunded' }, 'status'],
    ['string order id', { idempotency_key: 'evt_x', order_id: '1', status: 'success' }, 'order_id'],
    ['zero order id', { idempotency_key: 'evt_x', order_id: 0, status: 'success' }, 'order_id'],
    ['extra field', { idempotency_key: 'evt_x', order_id: 1, status: 'success', amount: '10.00' }, 'amount'],
  ])('a correctly signed but invalid body (%s) is 400 and records nothing', async (_name, body, field) => {
    const res = await sendWebhook(t, body).expect(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    const [{ n }] = await t.dataSource.query(`SELECT COUNT(*) AS n FROM payment_events WHERE idempotency_key = 'evt_x'`);
    expect(Number(n)).toBe(0);
  });

  it('checks the signature before the JSON: bad JSON is 401 unsigned, 400 invalid_json signed', async () => {
    await sendWebhook(t, '{"idempotency_key": ', { signature: null }).expect(401);
    const res = await sendWebhook(t, '{"idempotency_key": ').expect(400);
    expect(res.body.error).toBe('invalid_json');
    await t.http().post('/api/payments/webhook').set('Content-Type', 'text/plain').send('x').expect(415);
  });

  it('a printable key with spaces and symbols works and is case-sensitive', async () => {
    const { orderId } = await pendingOrder(5, 1);
    const k = `Evt ~!@#$%^&*() ${++seq}`;
    await sendWebhook(t, { idempotency_key: k, order_id: orderId, status: 'success' }).expect(200);
    const lower = await sendWebhook(t, { idempotency_key: k.toLowerCase(), order_id: orderId, status: 'success' }).expect(200);
    expect(lower.body.result).toBe('ignored');
  });

  it('compares keys byte for byte: a trailing space makes another key', async () => {
    const { orderId } = await pendingOrder(5, 1);
    const k = key('pad');
    await sendWebhook(t, { idempotency_key: k, order_id: orderId, status: 'success' }).expect(200);
    const padded = await sendWebhook(t, { idempotency_key: `${k} `, order_id: orderId, status: 'success' }).expect(200);
    expect(padded.body).toEqual(answer({ idempotency_key: `${k} `, order_id: orderId }, 'ignored', 'paid'));
    const conflict = await sendWebhook(t, { idempotency_key: `${k}  `, order_id: orderId, status: 'failure' }).expect(200);
    expect(conflict.body.result).toBe('ignored');
    expect(await eventCount(k)).toBe(1);
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM payment_events WHERE order_id = ?', [orderId]);
    expect(Number(n)).toBe(3);
  });
});
