import { factories } from './factories';
import { openSse, SseClient } from './helpers/sse';
import { captureLogs, startTestApp, TestApp } from './helpers/test-app';
import { timed } from './helpers/wait';
import { sendWebhook } from './helpers/webhook';
import { pollUntil } from './helpers/wait';

const DB = 'fs_test_stream';
const TOKEN = 'stream-admin-token';
/** The task's own deadline: an event follows every change within 1 s. */
const EVENT_DEADLINE_MS = 1000;

describe('GET /api/products/:id/stream: live availability over server-sent events', () => {
  let t: TestApp;
  /** A second instance on the same database with room for two streams only; its log lines are kept. */
  let small: TestApp;
  const smallLogs = captureLogs();
  const open: SseClient[] = [];

  beforeAll(async () => {
    t = await startTestApp(DB, { HOLD_TTL_SECONDS: '2', ORDER_PAYMENT_TTL_SECONDS: '2', ADMIN_TOKEN: TOKEN });
    small = await startTestApp(DB, { STREAM_MAX_CLIENTS: '2', LOG_LEVEL: 'info' }, { fresh: false, logDestination: smallLogs.destination });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await small?.close();
    await t?.close();
  });

  async function stream(productId: number, app: TestApp = t, headers: Record<string, string> = {}): Promise<SseClient> {
    const s = await openSse(`${app.url}/api/products/${productId}/stream`, headers);
    open.push(s);
    return s;
  }

  const hold = (productId: number, qty: number) => timed(() => t.http().post('/api/holds').send({ product_id: productId, qty }).expect(201));

  it('refuses a bad id (400) and an unknown product (404) as JSON, before any stream', async () => {
    const bad = await stream(0);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(bad.body)).toMatchObject({ error: 'validation_failed', details: [{ field: 'id' }] });
    const unknown = await stream(987654321);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: 'product_not_found' });
  });

  it('sends the current value at once, with retry: and an id', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 7 });
    await hold(p.id, 2);
    const s = await stream(p.id);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-cache, no-transform');
    const first = await s.waitFor('the first event', () => true);
    expect(first).toMatchObject({ event: 'availability', retry: 2000, value: { product_id: p.id, stock: 7, available: 5 } });
    expect(Number(first.id)).toBeGreaterThan(0);
    expect(Date.parse(first.value.at)).not.toBeNaN();
  });

  it('an event follows a hold made by another client within 1 s of its answer', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const s = await stream(p.id);
    await s.waitFor('the snapshot', (e) => e.value.available === 10);
    const { done } = await hold(p.id, 3);
    const e = await s.waitFor('available is 7', (x) => x.value.available === 7);
    expect(e.receivedAt - done).toBeLessThanOrEqual(EVENT_DEADLINE_MS);
  });

  it('an event follows a hold lapsing at its expires_at (HOLD_TTL_SECONDS=2), with no request made', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const s = await stream(p.id);
    const { value } = await hold(p.id, 4);
    const held = await s.waitFor('the hold is seen', (x) => x.value.available === 6);
    const back = await s.waitFor('the units are back', (x) => x.receivedAt >= held.receivedAt && x.value.available === 10, 10_000);
    const expiresAt = Date.parse(value.body.expires_at);
    expect(back.receivedAt).toBeGreaterThanOrEqual(expiresAt);
    expect(back.receivedAt - expiresAt).toBeLessThanOrEqual(EVENT_DEADLINE_MS);
  });

  it('an event follows an unpaid order lapsing at its payment deadline (ORDER_PAYMENT_TTL_SECONDS=2)', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const s = await stream(p.id);
    const h = await t.http().post('/api/holds').send({ product_id: p.id, qty: 5 }).expect(201);
    const order = await t.http().post('/api/orders').send({ hold_id: h.body.id }).expect(201);
    const held = await s.waitFor('the order holds 5 units', (x) => x.value.available === 5);
    const back = await s.waitFor('the units are back', (x) => x.receivedAt >= held.receivedAt && x.value.available === 10, 10_000);
    const expiresAt = Date.parse(order.body.expires_at);
    expect(back.receivedAt).toBeGreaterThanOrEqual(expiresAt);
    expect(back.receivedAt - expiresAt).toBeLessThanOrEqual(EVENT_DEADLINE_MS);
  });

  it('an event follows a restock within 1 s', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 3 });
    const s = await stream(p.id);
    await s.waitFor('the snapshot', (e) => e.value.stock === 3);
    const { done } = await timed(() => t.http().patch(`/api/products/${p.id}`).set('Authorization', `Bearer ${TOKEN}`).send({ restock: 5 }).expect(200));
    const e = await s.waitFor('stock is 8', (x) => x.value.stock === 8 && x.value.available === 8);
    expect(e.receivedAt - done).toBeLessThanOrEqual(EVENT_DEADLINE_MS);
  });

  it('an event follows a payment (signed webhook) within 1 s', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 5 });
    // The 2 s hold lifetime: the order is made at once, the payment window is 15 minutes.
    const h = await t.http().post('/api/holds').send({ product_id: p.id, qty: 2 }).expect(201);
    const order = await t.http().post('/api/orders').send({ hold_id: h.body.id }).expect(201);
    const s = await stream(p.id);
    await s.waitFor('the snapshot', (e) => e.value.stock === 5 && e.value.available === 3);
    const { value, done } = await timed(() => sendWebhook(t, { idempotency_key: `stream-pay-${order.body.id}`, order_id: order.body.id, status: 'success' }));
    expect(value.body.result).toBe('applied');
    const e = await s.waitFor('stock is 3', (x) => x.value.stock === 3 && x.value.available === 3);
    expect(e.receivedAt - done).toBeLessThanOrEqual(EVENT_DEADLINE_MS);
  });

  it('200 holds in a burst: at most ~10 events per second, the last one showing the final value', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 1000 });
    const s = await stream(p.id);
    await s.waitFor('the snapshot', (e) => e.value.available === 1000);
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 200 }, () => hold(p.id, 1)));
    const lastAnswer = Math.max(...answers.map((a) => a.done));
    const final = await s.waitFor('available is 800', (x) => x.value.available === 800);
    expect(final.receivedAt - lastAnswer).toBeLessThanOrEqual(EVENT_DEADLINE_MS);

    const burst = s.availability().filter((e) => e.receivedAt >= started);
    // Ids increase; values only go down; the final value is the last one sent.
    const ids = burst.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(burst[burst.length - 1].value.available).toBe(800);
    // Sent at least 100 ms apart: in any one second of receipt, at most 10 (one more for network jitter).
    for (const e of burst) expect(burst.filter((x) => x.receivedAt >= e.receivedAt && x.receivedAt < e.receivedAt + 1000).length).toBeLessThanOrEqual(11);
    expect(burst.length).toBeLessThanOrEqual(Math.ceil((final.receivedAt - started) / 100) + 1);
    // Still the last one once every hold of the burst is long committed.
    expect((await t.http().get(`/api/products/${p.id}`).expect(200)).body.available).toBe(800);
    expect(s.availability().at(-1)!.value.available).toBe(800);
  });

  it('a reconnect with Last-Event-ID starts with the current value', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const first = await stream(p.id);
    const seen = await first.waitFor('the snapshot', () => true);
    first.close();
    await hold(p.id, 1);
    const again = await stream(p.id, t, { 'Last-Event-ID': seen.id! });
    const e = await again.waitFor('the first event', () => true);
    expect(e.value.available).toBe(9);
    expect(Number(e.id)).toBeGreaterThan(Number(seen.id));
  });

  it('a stream opened while another of the same product is open starts with the current value, also after a change this instance did not hear of, and the open one gets it too', async () => {
    // `small` shares the database but not a Redis with `t`: it does not hear of t's holds.
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const watching = await stream(p.id, small);
    expect(watching.status).toBe(200);
    await watching.waitFor('the snapshot', (e) => e.value.available === 10);
    await hold(p.id, 4);
    const late = await stream(p.id, small);
    expect(late.status).toBe(200);
    const first = await late.waitFor('the first event', () => true);
    expect(first.value).toMatchObject({ stock: 10, available: 6 });
    // The stream already open is told the value the new one's read found.
    await watching.waitFor('the value the new stream read', (e) => e.value.available === 6);
    watching.close();
    late.close();
    await pollUntil(
      'both streams are released',
      async () => /^streams_open (\d+)$/m.exec((await small.http().get('/metrics').expect(200)).text)?.[1],
      (n) => n === '0',
    );
  });

  it('STREAM_MAX_CLIENTS: one stream more is 503 with Retry-After; a closed stream frees its place at once', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 1 });
    const a = await stream(p.id, small);
    const b = await stream(p.id, small);
    expect([a.status, b.status]).toEqual([200, 200]);
    const refused = await stream(p.id, small);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'unavailable' });
    // A full instance answers before it looks the product up.
    expect((await stream(987654321, small)).status).toBe(503);
    a.close();
    const c = await pollUntil(
      'a new stream is accepted once one has closed',
      async () => {
        const s = await stream(p.id, small);
        if (s.status !== 200) s.close();
        return s;
      },
      (s) => s.status === 200,
      { timeoutMs: 2000 },
    );
    await c.waitFor('its first event', () => true);
    b.close();
    c.close();
  });

  it('a stream its client closes is an answered request: counted in http_requests_total (200) and logged with its request id', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 2 });
    const route = { method: 'GET', route: '/api/products/:id/stream', status: '200' };
    const answered = async () => {
      const text = (await small.http().get('/metrics').expect(200)).text;
      const line = text.split('\n').find((l) => l.startsWith(`http_requests_total{method="${route.method}",route="${route.route}",status="${route.status}"}`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const before = await answered();
    const s = await stream(p.id, small, { 'X-Request-Id': 'stream-closed-by-client' });
    expect(s.status).toBe(200);
    await s.waitFor('the first event', () => true);
    s.close();
    const logged = await pollUntil(
      'the request line of the closed stream',
      () => smallLogs.events('request').find((l) => l.request_id === 'stream-closed-by-client'),
      (l) => l !== undefined,
      { timeoutMs: 2000 },
    );
    expect(logged).toMatchObject({ method: 'GET', route: '/api/products/:id/stream', status: 200 });
    expect(await answered()).toBe(before + 1);
    expect(smallLogs.events('request').filter((l) => l.request_id === 'stream-closed-by-client')).toHaveLength(1);
  });

  it('/metrics reports streams_open and stream_events_sent_total', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 4 });
    const metric = async (name: string) => {
      const text = (await t.http().get('/metrics').expect(200)).text;
      return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    };
    for (const s of open) s.close();
    await pollUntil(
      'every stream of the earlier tests is released',
      () => metric('streams_open'),
      (n) => n === 0,
    );
    const sentBefore = await metric('stream_events_sent_total');
    // HEAD answers the stream's status and headers without opening one: no event is counted.
    const head = await t.http().head(`/api/products/${p.id}/stream`).expect(200);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(head.headers['cache-control']).toBe('no-cache, no-transform');
    await t.http().head('/api/products/987654321/stream').expect(404);
    await expect(metric('stream_events_sent_total')).resolves.toBe(sentBefore);
    await expect(metric('streams_open')).resolves.toBe(0);
    const s1 = await stream(p.id);
    const s2 = await stream(p.id);
    await s1.waitFor('first', () => true);
    await s2.waitFor('first', () => true);
    await expect(metric('streams_open')).resolves.toBe(2);
    await hold(p.id, 1);
    await s1.waitFor('the hold', (e) => e.value.available === 3);
    await s2.waitFor('the hold', (e) => e.value.available === 3);
    await expect(metric('stream_events_sent_total')).resolves.toBe(sentBefore + 4);
    s1.close();
    await pollUntil(
      'the closed stream is released',
      () => metric('streams_open'),
      (n) => n === 1,
    );
  });
});
