import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { SchedulerRegistry } from '@nestjs/schedule';
import { factories } from './factories';
import { captureLogs, startTestApp, TestApp } from './helpers/test-app';
import { sendWebhook } from './helpers/webhook';
import { untilInstant } from './helpers/wait';
import { HoldExpiryJob } from '../src/checkout/hold-expiry.job';

const DB = 'fs_test_logs';

describe('structured logs: one JSON line per request and per domain event', () => {
  let t: TestApp;
  const logs = captureLogs();

  beforeAll(async () => {
    t = await startTestApp(
      DB,
      { LOG_LEVEL: 'info', AVAILABILITY_CACHE_TTL_MS: '0', HOLD_TTL_SECONDS: '1', STOCK_LOCK_WAIT_LOG_MS: '0', DB_LOCK_WAIT_TIMEOUT_SECONDS: '1' },
      { logDestination: logs.destination },
    );
    // The expiry job sweeps on its first tick after start; only the test's own sweep() may log hold.expired here.
    void t.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
  });
  afterAll(() => t.close());
  beforeEach(() => logs.lines.splice(0));

  it('a burst of holds: hold.created and hold.rejected with their ids, one request line each with its request_id', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 3 });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.http().post('/api/holds').set('X-Request-Id', `burst-${i}`).send({ product_id: p.id, qty: 1 })),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(3);

    const createdLines = logs.events('hold.created');
    expect(createdLines).toHaveLength(3);
    for (const line of createdLines) {
      const res = created.find((r) => r.body.id === line.hold_id)!;
      // The domain line carries the id of the very request that got this hold.
      expect(line).toMatchObject({ level: 'info', product_id: p.id, qty: 1, hold_id: res.body.id, request_id: res.headers['x-request-id'] });
    }
    const rejected = logs.events('hold.rejected');
    expect(rejected).toHaveLength(5);
    for (const line of rejected) expect(line).toMatchObject({ reason: 'insufficient_stock', product_id: p.id, qty: 1, available: 0 });
    const refusedIds = results.filter((r) => r.status === 409).map((r) => r.headers['x-request-id']);
    expect(rejected.map((l) => l.request_id).sort()).toEqual(refusedIds.sort());

    const requests = logs.events('request').filter((l) => l.route === '/api/holds');
    expect(requests).toHaveLength(8);
    for (const [i] of results.entries()) {
      const line = requests.find((l) => l.request_id === `burst-${i}`)!;
      expect(line).toMatchObject({ method: 'POST', route: '/api/holds', status: results[i].status });
      expect(typeof line.duration_ms).toBe('number');
      expect(typeof line.time).toBe('string');
    }
    const waits = logs.events('stock.lock_wait');
    expect(waits.length).toBeGreaterThan(0);
    // A batch's lock wait carries the id of a request of that batch.
    const burstIds = results.map((_, i) => `burst-${i}`);
    for (const w of waits) {
      expect(w).toMatchObject({ product_id: p.id, wait_ms: expect.any(Number) });
      expect(burstIds).toContain(w.request_id);
    }
  });

  it('an expiry: hold.expired with the units returned', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    const holds = [
      await t.http().post('/api/holds').send({ product_id: p.id, qty: 2 }).expect(201),
      await t.http().post('/api/holds').send({ product_id: p.id, qty: 3 }).expect(201),
    ];
    // The sweep takes holds with expires_at <= now: wait until the clock has passed both.
    await untilInstant(Math.max(...holds.map((h) => Date.parse(h.body.expires_at))) + 1);
    await t.app.get(HoldExpiryJob).sweep();
    const mine = logs.events('hold.expired').filter((l) => l.product_id === p.id);
    expect(mine).toEqual([expect.objectContaining({ level: 'info', product_id: p.id, holds: 2, units: 5 })]);
  });

  it('a duplicate webhook: payment.applied then payment.duplicate, with key and order id', async () => {
    const make = factories(t.dataSource);
    const p = await make.makeProduct({ stock: 5 });
    const order = await make.makeOrder({ productId: p.id, qty: 1 });
    const event = { idempotency_key: 'evt_logged', order_id: order.id, status: 'success' };
    const first = await sendWebhook(t, event).expect(200);
    await sendWebhook(t, event).expect(200);
    await sendWebhook(t, { ...event, status: 'failure' }).expect(422);
    await sendWebhook(t, { idempotency_key: 'evt_early', order_id: 999999, status: 'success' }).expect(202);
    expect(logs.events('payment.applied')).toEqual([
      expect.objectContaining({
        idempotency_key: 'evt_logged',
        order_id: order.id,
        result: 'applied',
        order_status: 'paid',
        request_id: first.headers['x-request-id'],
      }),
    ]);
    expect(logs.events('payment.duplicate')).toEqual([
      expect.objectContaining({ idempotency_key: 'evt_logged', order_id: order.id, result: 'duplicate', order_status: 'paid' }),
    ]);
    expect(logs.events('payment.conflict')).toEqual([expect.objectContaining({ idempotency_key: 'evt_logged', order_id: order.id, result: 'conflict' })]);
    expect(logs.events('payment.deferred')).toEqual([expect.objectContaining({ idempotency_key: 'evt_early', order_id: 999999, result: 'deferred' })]);
  });

  it('an order: order.created with its ids', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 5 });
    const hold = await t.http().post('/api/holds').send({ product_id: p.id, qty: 2 }).expect(201);
    const order = await t.http().post('/api/orders').send({ hold_id: hold.body.id }).expect(201);
    expect(logs.events('order.created')).toEqual([
      expect.objectContaining({ order_id: order.body.id, hold_id: hold.body.id, product_id: p.id, qty: 2, status: 'pending' }),
    ]);
  });

  it('a row lock held elsewhere: tx.retry per attempt, then tx.gave_up and 503, counted in tx_retries_total', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 5 });
    const blocker = t.dataSource.createQueryRunner();
    await blocker.connect();
    try {
      await blocker.startTransaction();
      await blocker.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [p.id]);
      const res = await t.http().post('/api/holds').set('X-Request-Id', 'blocked-1').send({ product_id: p.id, qty: 1 });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'unavailable' });
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await blocker.rollbackTransaction();
      await blocker.release();
    }
    expect(logs.events('tx.retry').map((l) => [l.reason, l.attempt, l.request_id])).toEqual([
      ['lock_wait_timeout', 1, 'blocked-1'],
      ['lock_wait_timeout', 2, 'blocked-1'],
      ['lock_wait_timeout', 3, 'blocked-1'],
    ]);
    expect(logs.events('tx.gave_up')).toEqual([expect.objectContaining({ level: 'warn', reason: 'lock_wait_timeout', attempt: 4, request_id: 'blocked-1' })]);
    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^tx_retries_total\{reason="lock_wait_timeout"\} 3$/m);
    // The lock is gone: the same hold goes through.
    await t.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201);
  });

  it('a row-lock wait under STOCK_LOCK_WAIT_LOG_MS is not logged', async () => {
    const lines = captureLogs();
    const q = await startTestApp('fs_test_logs_threshold', { LOG_LEVEL: 'info', STOCK_LOCK_WAIT_LOG_MS: '60000' }, { logDestination: lines.destination });
    try {
      const p = await factories(q.dataSource).makeProduct({ stock: 5 });
      await Promise.all(Array.from({ length: 5 }, () => q.http().post('/api/holds').send({ product_id: p.id, qty: 1 }).expect(201)));
    } finally {
      await q.close();
    }
    expect(lines.events('hold.created')).toHaveLength(5);
    expect(lines.events('stock.lock_wait')).toEqual([]);
  });

  it('LOG_LEVEL silent writes nothing', async () => {
    const quiet = captureLogs();
    const q = await startTestApp('fs_test_logs_quiet', { LOG_LEVEL: 'silent' }, { logDestination: quiet.destination });
    try {
      await q.http().get('/health').expect(200);
      await q.http().get('/api/nowhere').expect(404);
    } finally {
      await q.close();
    }
    expect(quiet.lines).toEqual([]);
  });
});

describe('log lines on stdout (TurnBatchedStdout): written once per turn, none lost, in order', () => {
  const APP_LOGGER = join(__dirname, '..', 'dist', 'observability', 'app-logger.js');

  /** Runs the built AppLogger in a process of its own: 2,000 lines over two turns, then `end` in the second turn. */
  function run(end: 'exit' | 'flush-then-exit' | 'return'): { lines: Array<Record<string, unknown>>; status: number | null } {
    const script = `
      const { AppLogger } = require(${JSON.stringify(APP_LOGGER)});
      const log = new AppLogger('info');
      for (let i = 0; i < 1000; i++) log.log({ msg: 'line', i });
      setImmediate(() => {
        for (let i = 1000; i < 2000; i++) log.log({ msg: 'line', i });
        if (${JSON.stringify(end)} === 'exit') process.exit(0);
        if (${JSON.stringify(end)} === 'flush-then-exit') log.flush().then(() => process.exit(0));
      });`;
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = res.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { lines, status: res.status };
  }

  it.each(['exit', 'flush-then-exit', 'return'] as const)('every line reaches stdout, whole and in order, when the process ends by %s', (end) => {
    const { lines, status } = run(end);
    expect(status).toBe(0);
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(lines.every((l) => l.msg === 'line' && l.level === 'info')).toBe(true);
  });
});
