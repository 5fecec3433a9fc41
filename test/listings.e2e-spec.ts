import { SchedulerRegistry } from '@nestjs/schedule';
import { factories } from './factories';
import { countStatements } from './helpers/statements';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_listings';

interface ListedOrder {
  id: number;
  product_id: number;
  status: string;
  product: { id: number; name: string };
}

describe('listings without N+1 (real MariaDB, statement counts)', () => {
  let t: TestApp;
  let productA: { id: number; name: string };
  let productB: { id: number; name: string };
  const statuses = ['pending', 'paid', 'cancelled'] as const;

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' });
    // The expiry job's statements are not the listing's: its ticks must not land inside a count.
    void t.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
    const make = factories(t.dataSource);
    productA = await make.makeProduct({ name: 'Sneaker A', stock: 1000 });
    productB = await make.makeProduct({ name: 'Sneaker B', stock: 1000 });
    for (let i = 0; i < 130; i++) {
      await make.makeOrder({ productId: (i % 2 === 0 ? productB : productA).id, status: statuses[i % 3] });
    }
  });
  afterAll(() => t.close());

  const page = (query: string) => t.http().get(`/api/orders${query}`).expect(200);

  it('GET /api/orders runs the same number of statements for 5 and for 100 orders', async () => {
    const small = await countStatements(t.dataSource, () => page('?limit=5'));
    const large = await countStatements(t.dataSource, () => page('?limit=100'));
    expect(small.result.body.data).toHaveLength(5);
    expect(large.result.body.data).toHaveLength(100);
    expect(small.statements.length).toBe(1);
    expect(large.statements.length).toBe(small.statements.length);
    for (const order of large.result.body.data as ListedOrder[]) {
      const name = order.product_id === productA.id ? productA.name : productB.name;
      expect(order.product).toEqual({ id: order.product_id, name });
    }
  });

  it('GET /api/products runs one statement however many products exist', async () => {
    const before = await countStatements(t.dataSource, () => t.http().get('/api/products').expect(200));
    const make = factories(t.dataSource);
    for (let i = 0; i < 20; i++) await make.makeProduct();
    const after = await countStatements(t.dataSource, () => t.http().get('/api/products').expect(200));
    expect(after.result.body.data.length).toBe(before.result.body.data.length + 20);
    expect(before.statements.length).toBe(1);
    expect(after.statements.length).toBe(1);
  });

  it('walking the pages visits every order exactly once, in ascending id', async () => {
    const seen: number[] = [];
    let after = 0;
    for (let pages = 0; pages < 100; pages++) {
      const res = await page(`?limit=7&after_id=${after}`);
      seen.push(...(res.body.data as ListedOrder[]).map((o) => o.id));
      if (res.body.next_after_id === null) break;
      expect(res.body.next_after_id).toBe(seen[seen.length - 1]);
      after = res.body.next_after_id;
    }
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM orders');
    expect(seen).toHaveLength(Number(n));
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('a page that ends exactly at the last order says so', async () => {
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM orders');
    const res = await page(`?limit=${Math.min(200, Number(n))}`);
    expect(res.body.data).toHaveLength(Number(n));
    expect(res.body.next_after_id).toBeNull();
  });

  it('filters by status and product, and combines them', async () => {
    for (const status of statuses) {
      const res = await page(`?status=${status}&limit=200`);
      const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM orders WHERE status = ?', [status]);
      expect(res.body.data).toHaveLength(Number(n));
      for (const o of res.body.data as ListedOrder[]) expect(o.status).toBe(status);
    }
    const both = await page(`?status=paid&product_id=${productB.id}&limit=200`);
    const [{ n }] = await t.dataSource.query('SELECT COUNT(*) AS n FROM orders WHERE status = ? AND product_id = ?', ['paid', productB.id]);
    expect(both.body.data).toHaveLength(Number(n));
    expect(Number(n)).toBeGreaterThan(0);
    for (const o of both.body.data as ListedOrder[]) expect(o).toMatchObject({ status: 'paid', product_id: productB.id });
    const none = await page('?product_id=999999');
    expect(none.body).toEqual({ data: [], next_after_id: null });
  });

  it('status=expired pages through stored expired and lapsed pending orders alike, in id order, one statement a page', async () => {
    const make = factories(t.dataSource);
    const c = await make.makeProduct({ name: 'Sneaker C', stock: 1000 });
    const past = new Date(Date.now() - 60_000);
    const expected: number[] = [];
    for (let i = 0; i < 11; i++) {
      // Stored expired, pending past its deadline (not swept yet), pending inside it.
      const kind = i % 3;
      const o =
        kind === 0
          ? await make.makeOrder({ productId: c.id, status: 'expired' })
          : await make.makeOrder({ productId: c.id, status: 'pending', expiresAt: kind === 1 ? past : undefined });
      if (kind !== 2) expected.push(Number(o.id));
    }
    for (const filter of [`&product_id=${c.id}`, '']) {
      const seen: number[] = [];
      let after = 0;
      for (let pages = 0; pages < 20; pages++) {
        const { result, statements } = await countStatements(t.dataSource, () => page(`?status=expired${filter}&limit=3&after_id=${after}`));
        expect(statements).toHaveLength(1);
        for (const o of result.body.data as ListedOrder[]) expect(o.status).toBe('expired');
        seen.push(...(result.body.data as ListedOrder[]).map((o) => o.id));
        if (result.body.next_after_id === null) break;
        after = result.body.next_after_id;
      }
      // No other order of this file is expired.
      expect(seen).toEqual(expected);
    }
  });

  it('lists the same order as GET /api/orders/:id shows it', async () => {
    const res = await page('?limit=1');
    const [first] = res.body.data as ListedOrder[];
    const one = await t.http().get(`/api/orders/${first.id}`).expect(200);
    expect(first).toEqual(one.body);
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=201', 'limit'],
    ['?limit=abc', 'limit'],
    ['?after_id=-1', 'after_id'],
    ['?after_id=1.5', 'after_id'],
    ['?status=shipped', 'status'],
    ['?product_id=0', 'product_id'],
    ['?status=paid&status=pending', 'status'],
    ['?page=2', 'page'],
  ])('GET /api/orders%s → 400 validation_failed on %s', async (query, field) => {
    const res = await t.http().get(`/api/orders${query}`).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'validation_failed' });
    expect(res.body.details).toEqual([expect.objectContaining({ field })]);
  });
});
