import { openSse, SseClient } from './helpers/sse';
import { resetDatabase } from './helpers/test-app';
import { seededProductId, ServiceProcess, startService, STARTUP_TIMEOUT_MS, stopService } from './helpers/service-process';
import { timed } from './helpers/wait';

const DB = 'fs_test_stream_instances';

async function hold(url: string, productId: number, qty: number): Promise<void> {
  const res = await fetch(`${url}/api/holds`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ product_id: productId, qty }),
  });
  if (res.status !== 201) throw new Error(`hold answered ${res.status}: ${await res.text()}`);
}

describe('availability streams on built services: two instances over one database and one Redis; SIGTERM', () => {
  const services: ServiceProcess[] = [];
  const streams: SseClient[] = [];
  let productId: number;

  beforeAll(async () => {
    await resetDatabase(DB);
    // The Redis channel is named after the database, which carries TEST_DB_SUFFIX: other checkouts' tests never hear these changes.
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', SEED_PRODUCT_STOCK: '50', HOLD_TTL_SECONDS: '600' };
    services.push(await startService(DB, env));
    productId = await seededProductId(services[0].url, 50);
    services.push(await startService(DB, env));
  }, 2 * STARTUP_TIMEOUT_MS);
  afterAll(async () => {
    for (const s of streams) s.close();
    await Promise.all(services.map((s) => stopService(s)));
  });

  it('a hold on instance A reaches a stream on instance B within 1 s', async () => {
    const [a, b] = services;
    const onB = await openSse(`${b.url}/api/products/${productId}/stream`);
    streams.push(onB);
    await onB.waitFor('the snapshot', (e) => e.value.available === 50);
    for (const [qty, expected] of [
      [2, 48],
      [5, 43],
    ]) {
      const { done } = await timed(() => hold(a.url, productId, qty));
      const e = await onB.waitFor(`available is ${expected} on B`, (x) => x.value.available === expected);
      expect(e.receivedAt - done).toBeLessThanOrEqual(1000);
    }
  });

  it('serves the pages from the build (dist/live/public)', async () => {
    const page = await fetch(`${services[0].url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('/storefront.js');
    expect((await fetch(`${services[0].url}/admin.html`)).status).toBe(200);
    expect((await fetch(`${services[0].url}/storefront.js`)).status).toBe(200);
    expect((await fetch(`${services[0].url}/nothing.html`)).status).toBe(404);
  });

  it(
    'SIGTERM with open streams: every stream ends and the service exits 0 within the drain time',
    async () => {
      const b = services[1];
      const open = await Promise.all(Array.from({ length: 20 }, () => openSse(`${b.url}/api/products/${productId}/stream`)));
      streams.push(...open);
      await Promise.all(open.map((s) => s.waitFor('the snapshot', () => true)));
      const signalled = Date.now();
      b.child.kill('SIGTERM');
      const code = await b.exited;
      // main.ts exits 1 when the stop takes more than its 10 s: 0 means the drain did not hang.
      expect(code).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(open.every((s) => s.ended())).toBe(true);
    },
    STARTUP_TIMEOUT_MS,
  );
});
