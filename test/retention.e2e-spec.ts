import { SchedulerRegistry } from '@nestjs/schedule';
import { Connection } from 'mysql2/promise';
import { HoldExpiryJob } from '../src/checkout/hold-expiry.job';
import { factories } from './factories';
import { countStatements } from './helpers/statements';
import { connectTestDb, startTestApp, TestApp } from './helpers/test-app';
import { startService, STARTUP_TIMEOUT_MS, stopService, ServiceProcess } from './helpers/service-process';
import { pollUntil } from './helpers/wait';

const DB = 'fs_test_retention';
const DAY = 86_400_000;
const daysAgo = (days: number, now = Date.now()) => new Date(now - days * DAY);

type Make = ReturnType<typeof factories>;

/**
 * A product with one hold or order of every kind, each labelled with whether the purge (at
 * HOLD_RETENTION_DAYS = 7) must delete its hold. Returns the hold ids that must go and stay, and
 * the lapsed ones: the lapsed hold and the hold of the lapsed order (kept until a sweep has marked
 * them expired, at their `expires_at` long ago; then they go too).
 */
async function seedEveryKind(make: Make): Promise<{ gone: number[]; kept: number[]; orders: number[]; lapsed: number[] }> {
  const p = await make.makeProduct({ stock: 1_000 });
  const gone: number[] = [];
  const kept: number[] = [];
  const orders: number[] = [];
  const hold = async (list: number[], status: 'active' | 'expired', expiresAt: Date) =>
    list.push((await make.makeHold({ productId: p.id, status, expiresAt, createdAt: new Date(expiresAt.getTime() - 120_000) })).id);
  // An expired order changed at its deadline: its `updated_at` is its `expires_at`.
  const order = async (list: number[], status: 'pending' | 'paid' | 'cancelled' | 'expired', at: Date, updatedAt = at) => {
    const o = await make.makeOrder({ productId: p.id, status, at, updatedAt, ...(status === 'expired' ? { expiresAt: updatedAt } : {}) });
    list.push(o.holdId);
    orders.push(o.id);
  };
  await hold(gone, 'expired', daysAgo(8)); // expired, ended 8 days ago
  await hold(gone, 'expired', daysAgo(400));
  await hold(kept, 'expired', daysAgo(6)); // expired, but only 6 days ago
  await hold(kept, 'active', daysAgo(30)); // lapsed, never swept: its ending is not definite in the rows
  const lapsed = [kept[kept.length - 1]];
  await hold(kept, 'active', new Date(Date.now() + 60_000)); // live
  await order(gone, 'paid', daysAgo(9));
  await order(gone, 'cancelled', daysAgo(9));
  await order(gone, 'expired', daysAgo(20), daysAgo(19));
  await order(kept, 'pending', daysAgo(9)); // an order never swept: not final as stored
  lapsed.push(kept[kept.length - 1]);
  await order(kept, 'paid', daysAgo(9), daysAgo(2)); // paid (late) two days ago
  await order(kept, 'expired', daysAgo(8), daysAgo(6.9)); // expired 6.9 days ago
  await order(kept, 'paid', new Date()); // this minute
  return { gone, kept, orders, lapsed };
}

async function holdIds(t: TestApp): Promise<number[]> {
  const rows: Array<{ id: string | number }> = await t.dataSource.query('SELECT id FROM holds ORDER BY id');
  return rows.map((r) => Number(r.id));
}

describe('retention: ended holds are deleted after HOLD_RETENTION_DAYS (real MariaDB)', () => {
  let t: TestApp;
  let job: HoldExpiryJob;

  beforeAll(async () => {
    t = await startTestApp(DB, { HOLD_RETENTION_DAYS: '7', AVAILABILITY_CACHE_TTL_MS: '0' });
    void t.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
    job = t.app.get(HoldExpiryJob);
  });
  afterAll(() => t.close());

  beforeEach(async () => {
    for (const table of ['payment_events', 'orders', 'holds', 'products']) await t.dataSource.query(`DELETE FROM ${table}`);
  });

  it('deletes old expired holds and converted holds of final orders; keeps recent, active, lapsed and pending-order holds; never orders', async () => {
    const make = factories(t.dataSource);
    const { gone, kept, orders } = await seedEveryKind(make);
    const ordersBefore = await t.dataSource.query('SELECT * FROM orders ORDER BY id');

    const purged = await job.purgeEnded();
    expect(purged).toEqual({ holds: gone.length, done: true });
    expect(await holdIds(t)).toEqual([...kept].sort((a, b) => a - b));
    expect(await t.dataSource.query('SELECT * FROM orders ORDER BY id')).toEqual(ordersBefore);
    expect(ordersBefore).toHaveLength(orders.length);

    // The contract: a deleted hold is 404, a kept one still readable; orders of deleted holds stay readable.
    for (const id of gone) await t.http().get(`/api/holds/${id}`).expect(404, { statusCode: 404, error: 'hold_not_found', message: 'Hold not found.' });
    for (const id of kept) await t.http().get(`/api/holds/${id}`).expect(200);
    for (const id of orders) await t.http().get(`/api/orders/${id}`).expect(200);

    // A second purge finds nothing more.
    await expect(job.purgeEnded()).resolves.toEqual({ holds: 0, done: true });
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toMatch(new RegExp(`^holds_purged_total ${gone.length}$`, 'm'));
  });

  it("a database whose expired orders carry the sweep's time as updated_at is brought to their expires_at by its migration, and their holds go on time", async () => {
    const make = factories(t.dataSource);
    const p = await make.makeProduct({ stock: 1_000 });
    // Swept before the rule: the order lapsed 8 days ago, the sweep stored its own time 2 days later.
    const late = await make.makeOrder({ productId: p.id, status: 'expired', at: daysAgo(8.1), expiresAt: daysAgo(8), updatedAt: daysAgo(6) });
    const paid = await make.makeOrder({ productId: p.id, status: 'paid', at: daysAgo(8.1), expiresAt: daysAgo(8), updatedAt: daysAgo(6) });
    const times = async (id: number) => {
      const [row] = await t.dataSource.query('SELECT updated_at, expires_at FROM orders WHERE id = ?', [id]);
      return { updated: new Date(row.updated_at).getTime(), expires: new Date(row.expires_at).getTime() };
    };
    const paidBefore = await times(paid.id);
    expect(paidBefore.updated).toBeGreaterThan(paidBefore.expires);
    const migration = 'ExpiredOrdersChangedAtDeadline1764000000012';
    const [{ n: applied }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM migrations WHERE name = ?', [migration]);
    expect(Number(applied)).toBe(1);
    await t.dataSource.query('DELETE FROM migrations WHERE name = ?', [migration]);
    await t.dataSource.runMigrations({ transaction: 'each' });

    const expired = await times(late.id);
    expect(expired.updated).toBe(expired.expires);
    expect(await times(paid.id)).toEqual(paidBefore); // a paid order keeps the time its payment was applied
    expect(await job.purgeEnded()).toEqual({ holds: 1, done: true });
    expect(await holdIds(t)).toEqual([paid.holdId]);
  });

  it('works in chunks of bounded size: more rows than one chunk take several short DELETEs, each LIMITed', async () => {
    const make = factories(t.dataSource);
    const p = await make.makeProduct({ stock: 1_000 });
    const old = daysAgo(10);
    await make.makeHolds(Array.from({ length: 53 }, () => ({ productId: p.id, status: 'expired' as const, expiresAt: old, createdAt: old })));
    await make.makeOrders(Array.from({ length: 23 }, () => ({ productId: p.id, status: 'paid' as const, at: old })));
    const keep = await make.makeHolds(Array.from({ length: 5 }, () => ({ productId: p.id, status: 'expired' as const, expiresAt: daysAgo(1) })));

    const { result, statements } = await countStatements(t.dataSource, () => job.purgeEnded(new Date(), { chunk: 5, budgetMs: 60_000 }), /DELETE/);
    expect(result).toEqual({ holds: 53 + 23, done: true });
    const expiredDeletes = statements.filter((s) => /LIMIT 5\b/.test(s));
    expect(expiredDeletes).toHaveLength(Math.floor(53 / 5) + 1); // ten full chunks, then a short one
    expect(statements.length - expiredDeletes.length).toBe(Math.ceil(23 / 5)); // converted: one per chunk of candidates
    expect(await holdIds(t)).toEqual(keep);
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM orders');
    expect(Number(n)).toBe(23);
  });

  it('stops when its time budget is spent and leaves the rest to the next sweep', async () => {
    const make = factories(t.dataSource);
    const p = await make.makeProduct({ stock: 1_000 });
    const old = daysAgo(10);
    await make.makeHolds(Array.from({ length: 30 }, () => ({ productId: p.id, status: 'expired' as const, expiresAt: old })));
    // A budget of 0 ms: one chunk, then out of time.
    await expect(job.purgeEnded(new Date(), { chunk: 4, budgetMs: 0 })).resolves.toEqual({ holds: 4, done: false });
    expect(await holdIds(t)).toHaveLength(26);
    await expect(job.purgeEnded(new Date(), { chunk: 4, budgetMs: 60_000 })).resolves.toEqual({ holds: 26, done: true });
  });

  it('two instances purging the same backlog at once delete each hold once and nothing else', async () => {
    const second = await startTestApp(DB, { HOLD_RETENTION_DAYS: '7', AVAILABILITY_CACHE_TTL_MS: '0' }, { fresh: false });
    try {
      void second.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
      const make = factories(t.dataSource);
      const p = await make.makeProduct({ stock: 1_000 });
      const old = daysAgo(10);
      await make.makeHolds(Array.from({ length: 400 }, () => ({ productId: p.id, status: 'expired' as const, expiresAt: old })));
      await make.makeOrders(Array.from({ length: 120 }, (_, i) => ({ productId: p.id, status: i % 2 ? ('paid' as const) : ('cancelled' as const), at: old })));
      const { kept } = await seedEveryKind(make);
      const bounds = { chunk: 7, budgetMs: 60_000 };
      const [a, b] = await Promise.all([job.purgeEnded(new Date(), bounds), second.app.get(HoldExpiryJob).purgeEnded(new Date(), bounds)]);
      expect(a.holds + b.holds).toBe(400 + 120 + 5);
      expect(await holdIds(t)).toEqual([...kept].sort((x, y) => x - y));
      const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM orders');
      expect(Number(n)).toBe(120 + 7);
    } finally {
      await second.close();
    }
  });
});

describe('retention: two built services sweeping one backlog with their own jobs', () => {
  const RDB = 'fs_test_retention_multi';
  const services: ServiceProcess[] = [];
  let db: Connection;

  afterAll(async () => {
    await Promise.all(services.map((s) => stopService(s, 'SIGTERM')));
    await db?.end();
  });

  it(
    'a backlog bigger than a chunk goes, the rest stays, each hold counted once across both',
    async () => {
      // Fill through an in-process app with its job stopped (it creates and migrates the database),
      // then start two sweeping services: no job runs before the backlog is complete.
      const filler = await startTestApp(RDB, { AVAILABILITY_CACHE_TTL_MS: '0' });
      let kept: number[];
      let lapsed: number[];
      try {
        void filler.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
        const make = factories(filler.dataSource);
        const p = await make.makeProduct({ stock: 1_000 });
        const old = daysAgo(10);
        await make.makeHolds(Array.from({ length: 2_600 }, () => ({ productId: p.id, status: 'expired' as const, expiresAt: old })));
        await make.makeOrders(Array.from({ length: 1_100 }, () => ({ productId: p.id, status: 'paid' as const, at: old })));
        ({ kept, lapsed } = await seedEveryKind(make));
      } finally {
        await filler.close();
      }
      const env = { HOLD_SWEEP_INTERVAL_SECONDS: '1', HOLD_RETENTION_DAYS: '7', LOG_LEVEL: 'warn' };
      services.push(...(await Promise.all([startService(RDB, env), startService(RDB, env)])));
      db = await connectTestDb(RDB);
      // The services' sweeps also mark the lapsed hold expired (30 days ago) and the lapsed order
      // (9 days ago, at its expires_at, when its status changed), so both holds go as well.
      const expected = 2_600 + 1_100 + 5 + 2;
      const purgedTotal = async () => {
        let sum = 0;
        for (const s of services) {
          const text = await (await fetch(`${s.url}/metrics`)).text();
          sum += Number(/^holds_purged_total (\d+)$/m.exec(text)?.[1] ?? 0);
        }
        return sum;
      };
      await pollUntil('both jobs have purged the backlog', purgedTotal, (n) => n >= expected, { timeoutMs: 60_000, intervalMs: 100 });
      expect(await purgedTotal()).toBe(expected);
      const [rows] = (await db.query('SELECT id FROM holds ORDER BY id')) as unknown as [Array<{ id: number }>];
      expect(rows.map((r) => Number(r.id))).toEqual(kept.filter((id) => !lapsed.includes(id)).sort((a, b) => a - b));
      const [[{ n }]] = (await db.query('SELECT COUNT(*) AS n FROM orders')) as unknown as [Array<{ n: number }>];
      expect(Number(n)).toBe(1_100 + 7);
    },
    2 * STARTUP_TIMEOUT_MS + 60_000,
  );
});
