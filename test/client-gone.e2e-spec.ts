import { request as httpRequest } from 'node:http';
import type { Connection } from 'mysql2/promise';
import { PlaceHoldService } from '../src/checkout/place-hold.service';
import { factories } from './factories';
import { connectTestDb, startTestApp, TestApp } from './helpers/test-app';
import { blockedOnRowLock } from './helpers/row-lock';
import { pollUntil } from './helpers/wait';

const DB = 'fs_test_client_gone';

/**
 * A client that closes its connection while its hold waits is not left holding units nobody will
 * use: whether its batch had started (the hold is granted, then ended at once) or not (it is never
 * granted). The product's row lock is held by the test so that both cases happen on cue.
 */
describe('holds of clients that left before their answer', () => {
  let t: TestApp;
  let locker: Connection;
  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' });
    locker = await connectTestDb(DB);
  });
  afterAll(async () => {
    await locker.end();
    await t.close();
  });

  /** Sends a hold and returns a function that closes its connection, as a client that gives up. */
  const holdThenLeave = (productId: number): (() => void) => {
    const body = JSON.stringify({ product_id: productId, qty: 2 });
    const req = httpRequest(`${t.url}/api/holds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', () => undefined);
    req.end(body);
    return () => req.destroy();
  };

  const openConnections = (): Promise<number> =>
    new Promise((resolve, reject) => t.app.getHttpServer().getConnections((err: Error | null, n: number) => (err ? reject(err) : resolve(n))));

  it('a hold granted while its client was leaving is ended at once, one still queued is never granted; their units stay on sale', async () => {
    const p = await factories(t.dataSource).makeProduct({ stock: 10 });
    // Two batches of this product run at once (each waits on the row lock); the third request queues.
    const leaves = await blockedOnRowLock(locker, p.id, 2, () => holdThenLeave(p.id));
    leaves.push(holdThenLeave(p.id));
    await pollUntil(
      'the third hold queues',
      () => t.app.get(PlaceHoldService).queued(p.id),
      (n) => n === 1,
    );
    const before = await openConnections();
    for (const leave of leaves) leave();
    await pollUntil('the service has seen the three connections close', openConnections, (n) => n <= before - 3);
    await locker.query('ROLLBACK');

    const stored = await pollUntil(
      'the two granted holds are ended',
      () => t.dataSource.query<Array<{ status: string; n: string }>>('SELECT status, COUNT(*) AS n FROM holds WHERE product_id = ? GROUP BY status', [p.id]),
      (rows) => rows.length > 0 && rows.every((r) => r.status === 'expired'),
    );
    expect(stored.map((r) => ({ status: r.status, n: Number(r.n) }))).toEqual([{ status: 'expired', n: 2 }]);
    // Each ended at the moment it was ended, long before its HOLD_TTL_SECONDS would have run out.
    const lives = await t.dataSource.query<Array<{ ms: string }>>(
      'SELECT TIMESTAMPDIFF(MICROSECOND, created_at, expires_at) DIV 1000 AS ms FROM holds WHERE product_id = ?',
      [p.id],
    );
    for (const { ms } of lives) expect(Number(ms)).toBeLessThan(t.config.holdTtlSeconds * 1000);
    const product = await t.http().get(`/api/products/${p.id}`).expect(200);
    expect(product.body).toMatchObject({ stock: 10, available: 10 });
    const [{ reserved }] = await t.dataSource.query('SELECT reserved FROM products WHERE id = ?', [p.id]);
    expect(Number(reserved)).toBe(0);
  });
});
