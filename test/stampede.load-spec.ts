import type { Connection } from 'mysql2/promise';
import { rssMb, stampede, StampedeResult } from '../bench/stampede';
import { ServiceProcess, startService, stopService, STARTUP_TIMEOUT_MS } from './helpers/service-process';
import { connectTestDb, resetDatabase } from './helpers/test-app';
import { timed } from './helpers/wait';

const DB = 'fs_test_stampede';
const ADMIN_TOKEN = 'stampede-admin-token';
const REQUESTS = 20_000;
const CONNECTIONS = 300;

/**
 * A drop's opening burst against the built service: 20,000 holds from 300 connections, a third of
 * them from clients that give up after 100–300 ms and retry at once. What must hold whatever the
 * machine's speed: no 5xx but 503 with Retry-After, no oversell, hardly any units granted to
 * clients that had gone, bounded memory, and a service that answers at once afterwards.
 */
describe('a stampede on one hot product (built service, real HTTP, real MariaDB)', () => {
  let service: ServiceProcess | undefined;
  let db: Connection | undefined;

  afterEach(async () => {
    await db?.end();
    db = undefined;
    await stopService(service, 'SIGTERM');
    service = undefined;
  });

  const createProduct = async (url: string, stock: number): Promise<number> => {
    const res = await fetch(`${url}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: `Stampede ${stock}`, price: '10.00', stock }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: number }).id;
  };

  /** Units of the product in active holds (TTL 1 h: none lapses during the test). */
  const unitsHeld = async (productId: number): Promise<number> => {
    const [rows] = await (db as Connection).query("SELECT COALESCE(SUM(qty), 0) AS units FROM holds WHERE product_id = ? AND status = 'active'", [productId]);
    return Number((rows as Array<{ units: string }>)[0].units);
  };

  async function run(stock: number, env: Record<string, string>): Promise<{ result: StampedeResult; productId: number; warmRss: number }> {
    await resetDatabase(DB);
    service = await startService(DB, { ADMIN_TOKEN, HOLD_TTL_SECONDS: '3600', SEED_PRODUCT_STOCK: '0', DB_POOL_SIZE: '20', ...env });
    db = await connectTestDb(DB);
    const pid = service.child.pid as number;
    // Warm up on another product, so the measured one starts untouched and memory is settled.
    const warm = await createProduct(service.url, 1_000_000_000);
    await stampede({ url: service.url, productId: warm, requests: 2_000, connections: 100, impatientShare: 0 });
    const warmRss = rssMb(pid) as number;
    const productId = await createProduct(service.url, stock);
    const result = await stampede({ url: service.url, productId, requests: REQUESTS, connections: CONNECTIONS, pid });

    // Right after the burst the service answers at once.
    const read = await timed(() => fetch(`${(service as ServiceProcess).url}/api/products/${productId}`));
    expect(read.value.status).toBe(200);
    expect(read.done - read.sent).toBeLessThan(1000);
    const hold = await timed(() =>
      fetch(`${(service as ServiceProcess).url}/api/holds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ product_id: warm, qty: 1 }),
      }),
    );
    expect(hold.value.status).toBe(201);
    expect(hold.done - hold.sent).toBeLessThan(1000);
    return { result, productId, warmRss };
  }

  /** Checks shared by both runs; returns the units granted to clients that had gone. */
  async function expectHeldTheLine(r: { result: StampedeResult; productId: number; warmRss: number }): Promise<number> {
    const { result } = r;
    expect(result.broken).toEqual([]);
    expect(result.errors).toBe(0);
    const answered = Object.values(result.status).reduce((a, b) => a + b, 0);
    expect(answered).toBe(REQUESTS); // every request got an answer, first or on its retry
    // Every 201 a client received is an active hold; any other active hold went to a client that had
    // gone (holds ended at once because their client left are `expired`, their units back on sale).
    const held = await unitsHeld(r.productId);
    const [rows] = await (db as Connection).query("SELECT id FROM holds WHERE product_id = ? AND status = 'active'", [r.productId]);
    const inDb = new Set((rows as Array<{ id: number | string }>).map((row) => Number(row.id)));
    for (const id of result.grantedIds) expect(inDb.has(id)).toBe(true);
    const orphaned = held - result.grantedUnits;
    expect(orphaned).toBeGreaterThanOrEqual(0);
    expect(orphaned).toBeLessThanOrEqual(Math.max(100, Math.floor(0.05 * result.gaveUp)));
    expect(result.peakRssMb).toBeDefined();
    expect((result.peakRssMb as number) - r.warmRss).toBeLessThan(400);
    return held;
  }

  it(
    'stock 500: never more than 500 units granted, and the sale sells out',
    async () => {
      const r = await run(500, {});
      const held = await expectHeldTheLine(r);
      expect(held).toBeLessThanOrEqual(500);
      expect(held).toBe(500); // 20,000 buyers for 500 units: none is left unsold
      expect(r.result.gaveUp).toBeGreaterThan(0);
    },
    STARTUP_TIMEOUT_MS + 240_000,
  );

  it(
    'stock that never runs out, with a small queue: what is shed is 503 with Retry-After, the rest granted',
    async () => {
      const r = await run(1_000_000_000, { HOLD_QUEUE_MAX: '32', HOLD_QUEUE_TIMEOUT_MS: '500' });
      await expectHeldTheLine(r);
      const shed = r.result.status[503] ?? 0;
      expect((r.result.status[201] ?? 0) + shed).toBe(REQUESTS);
    },
    STARTUP_TIMEOUT_MS + 240_000,
  );
});
