import { failures, runGrowth, table } from '../bench/growth';
import { testDbName } from './helpers/test-app';

/**
 * `npm run bench:growth` at a reduced size, so its code cannot rot: the tables are filled in bulk,
 * every load runs and is answered as it should be, and EXPLAIN finds no full scan on the hot
 * paths, nor a table access reading far more rows than its page or share allows. Speed is not asserted (the machine is shared and noisy); the full run is by hand.
 */
describe('bench:growth, reduced (50,000 holds)', () => {
  it('fills the tables, runs every load on empty and full tables, and EXPLAIN finds no full scan', async () => {
    const result = await runGrowth({ database: testDbName('fs_test_growth'), holds: 50_000, products: 200, duration: 1, amount: 100 });
    expect(result.rows.holds).toBeGreaterThanOrEqual(50_000);
    expect(result.rows.orders).toBeGreaterThanOrEqual(10_000);
    expect(result.rows.payment_events).toBeGreaterThanOrEqual(8_000);
    expect(result.rows.products).toBeGreaterThanOrEqual(200);
    expect(result.full.map((f) => f.scenario)).toEqual(result.empty.map((f) => f.scenario));
    for (const f of [...result.empty, ...result.full]) expect(f.requests).toBeGreaterThan(0);
    // Every hot path was seen: reads, the catalogue page, holds, orders, payments, listings, the sweep and the purge.
    const statements = result.explains.map((e) => e.statement).join('\n');
    for (const needle of [
      /FROM products p WHERE p\.id = \?/,
      /WHERE p\.id > \?/,
      /FROM holds h/,
      /FROM `?orders`? `?o`?/,
      /payment_events/,
      /DELETE FROM holds/,
    ])
      expect(statements).toMatch(needle);
    expect(failures(result)).toEqual([]);
    expect(table(result)).toContain('0 reading a whole table or index or more rows than allowed');
    // Every statement was run under ANALYZE: its table accesses and the rows they read are known.
    for (const e of result.explains) expect(e.accesses.length).toBeGreaterThan(0);
  }, 600_000);
});
