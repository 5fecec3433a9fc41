import { Agent, IncomingMessage, request } from 'node:http';
import { connectTestDb, resetDatabase } from './helpers/test-app';
import { seededProductId, ServiceProcess, startService, STARTUP_TIMEOUT_MS, stopService } from './helpers/service-process';
import { lockProductRow, untilReservationsWait } from './helpers/row-lock';
import { pollUntil } from './helpers/wait';

const DB = 'fs_test_shutdown';

describe('graceful shutdown: SIGTERM during a burst of holds', () => {
  let service: ServiceProcess | undefined;

  beforeAll(() => resetDatabase(DB));
  afterAll(() => stopService(service));

  it(
    'exits 0 within a few seconds, and every hold that answered 201 exists',
    async () => {
      service = await startService(DB, { SEED_PRODUCT_STOCK: '100000', HOLD_TTL_SECONDS: '3600' });
      const url = service.url;
      const productId = await seededProductId(url, 100000);
      const granted: Array<{ id: number; qty: number }> = [];
      const answers = new Map<string, number>();
      let stop = false;
      const buyer = async (i: number) => {
        while (!stop) {
          try {
            const res = await fetch(`${url}/api/holds`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ product_id: productId, qty: (i % 3) + 1 }),
            });
            const body = (await res.json()) as { id: number; qty: number };
            answers.set(String(res.status), (answers.get(String(res.status)) ?? 0) + 1);
            if (res.status === 201) granted.push(body);
          } catch {
            return; // the listener is closed: the service is going away
          }
        }
      };
      const buyers = Array.from({ length: 40 }, (_, i) => buyer(i));
      await pollUntil(
        '200 holds have been granted',
        () => granted.length,
        (n) => n >= 200,
        { timeoutMs: 30_000, intervalMs: 10 },
      );

      const signalled = Date.now();
      service.child.kill('SIGTERM');
      const code = await service.exited;
      const took = Date.now() - signalled;
      stop = true;
      await Promise.all(buyers);

      expect(code).toBe(0);
      expect(took).toBeLessThan(5000);
      for (const status of answers.keys()) expect(['201', '503']).toContain(status);
      // Requests that reach the service while it drains are served, not refused.
      expect([...answers.keys()]).toEqual(['201']);

      const conn = await connectTestDb(DB);
      try {
        const [rows] = (await conn.query('SELECT id, qty FROM holds')) as unknown as [Array<{ id: number; qty: number }>];
        const stored = new Map(rows.map((r) => [Number(r.id), Number(r.qty)]));
        for (const hold of granted) expect(stored.get(hold.id)).toBe(hold.qty);
        const [[product]] = (await conn.query('SELECT reserved FROM products WHERE id = ?', [productId])) as unknown as [Array<{ reserved: number }>];
        const units = rows.reduce((sum, r) => sum + Number(r.qty), 0);
        expect(Number(product.reserved)).toBe(units);
      } finally {
        await conn.end();
      }
    },
    STARTUP_TIMEOUT_MS + 60_000,
  ); // a start, 200 holds (<= 30 s), the drain
});

describe('graceful shutdown: a request in flight when the stop begins', () => {
  const INFLIGHT_DB = `${DB}_inflight`;
  let service: ServiceProcess | undefined;

  beforeAll(() => resetDatabase(INFLIGHT_DB));
  afterAll(() => stopService(service));

  it(
    'is finished, and its answer carries Connection: close (the connection is closed after it, so the client must not reuse it)',
    async () => {
      service = await startService(INFLIGHT_DB, { SEED_PRODUCT_STOCK: '10', DB_LOCK_WAIT_TIMEOUT_SECONDS: '30' });
      const { url, port } = service;
      const productId = await seededProductId(url, 10);
      const locker = await connectTestDb(INFLIGHT_DB);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        await lockProductRow(locker, productId);
        // A hold on a keep-alive connection, waiting on the row lock held above.
        const answer = new Promise<{ res: IncomingMessage; body: string }>((resolve, reject) => {
          const req = request(
            { port, host: '127.0.0.1', path: '/api/holds', method: 'POST', agent, headers: { 'content-type': 'application/json' } },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => (body += c));
              res.on('end', () => resolve({ res, body }));
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify({ product_id: productId, qty: 1 }));
        });
        await untilReservationsWait(locker, 1);
        service.child.kill('SIGTERM');
        await pollUntil(
          'the listener is closed',
          () =>
            fetch(`${url}/health`).then(
              () => 'listening',
              () => 'closed',
            ),
          (s) => s === 'closed',
        );
        await locker.query('ROLLBACK');
        const { res, body } = await answer;
        expect(res.statusCode).toBe(201);
        expect((JSON.parse(body) as { status: string }).status).toBe('active');
        expect(res.headers.connection).toBe('close');
        expect(res.headers['keep-alive']).toBeUndefined();
        expect(await service.exited).toBe(0);
      } finally {
        agent.destroy();
        await locker.end();
      }
    },
    STARTUP_TIMEOUT_MS + 30_000,
  );
});
