import { DataSource } from 'typeorm';
import { HoldStatus } from '../src/hold/hold.entity';
import { holdStatusAt, isLapsed, lapsedHoldSql } from '../src/hold/hold-lapse';
import { isOrderLapsed, lapsedOrderSql, orderStatusAt } from '../src/order/order-lapse';
import { OrderStatus } from '../src/order/order-status';
import { factories } from './factories';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_lapse_rule';
/**
 * The instant the rules are judged at: far in the future, so no row here is lapsed by the real
 * clock and the running app's expiry job never marks one while the test reads it (a `now` in the
 * past let the sweep turn a lapsed `pending` row into `expired` between the insert and the read).
 */
const AT = new Date('2100-01-01T12:00:00.000Z');

describe('the lapse rules (holds, orders): their SQL and TypeScript forms agree row by row', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(DB);
  });
  afterAll(() => t.close());

  async function lapsedBySql(dataSource: DataSource, ids: number[], now: Date): Promise<Set<number>> {
    const rows: Array<{ id: number | string }> = await dataSource.query(`SELECT h.id FROM holds h WHERE h.id IN (?) AND ${lapsedHoldSql('h')}`, [ids, now]);
    return new Set(rows.map((r) => Number(r.id)));
  }

  it('every status, and expires_at before, at and after now (to the millisecond)', async () => {
    const make = factories(t.dataSource);
    const p = await make.makeProduct({ stock: 100 });
    const now = AT;
    const offsets = [-60_000, -1, 0, 1, 60_000];
    const statuses: HoldStatus[] = ['active', 'expired', 'converted'];
    const holds = [];
    for (const status of statuses) {
      for (const offset of offsets) holds.push(await make.makeHold({ productId: p.id, status, expiresAt: new Date(now.getTime() + offset) }));
    }
    const bySql = await lapsedBySql(
      t.dataSource,
      holds.map((h) => h.id),
      now,
    );
    const byTs = new Set(holds.filter((h) => isLapsed(h, now)).map((h) => h.id));
    expect(bySql).toEqual(byTs);
    // Exactly the active holds whose expires_at is not after now: the rule, spelled out once.
    expect(byTs.size).toBe(3);
    for (const h of holds) {
      expect(holdStatusAt(h, now)).toBe(isLapsed(h, now) ? 'expired' : h.status);
    }
  });

  it('orders: every status, and expires_at before, at and after now (to the millisecond)', async () => {
    const make = factories(t.dataSource);
    const p = await make.makeProduct({ stock: 100 });
    const now = AT;
    const offsets = [-60_000, -1, 0, 1, 60_000];
    const statuses: OrderStatus[] = ['pending', 'paid', 'cancelled', 'expired'];
    const orders = [];
    for (const status of statuses) {
      for (const offset of offsets) orders.push(await make.makeOrder({ productId: p.id, status, expiresAt: new Date(now.getTime() + offset) }));
    }
    const rows: Array<{ id: number | string }> = await t.dataSource.query(`SELECT o.id FROM orders o WHERE o.id IN (?) AND ${lapsedOrderSql('o')}`, [
      orders.map((o) => o.id),
      now,
    ]);
    const bySql = new Set(rows.map((r) => Number(r.id)));
    const byTs = new Set(orders.filter((o) => isOrderLapsed(o, now)).map((o) => o.id));
    expect(bySql).toEqual(byTs);
    // Exactly the pending orders whose deadline is not after now.
    expect(byTs.size).toBe(3);
    for (const o of orders) expect(orderStatusAt(o, now)).toBe(isOrderLapsed(o, now) ? 'expired' : o.status);
  });
});
