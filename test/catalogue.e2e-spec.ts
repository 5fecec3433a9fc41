import { SchedulerRegistry } from '@nestjs/schedule';
import { factories } from './factories';
import { countStatements } from './helpers/statements';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_catalogue';

interface ListedProduct {
  id: number;
  name: string;
  stock: number;
  available: number;
}

describe('the paged catalogue: GET /api/products (real MariaDB, statement counts)', () => {
  let t: TestApp;
  let ids: number[];

  beforeAll(async () => {
    t = await startTestApp(DB, { AVAILABILITY_CACHE_TTL_MS: '0' });
    // The expiry job's statements are not the listing's: its ticks must not land inside a count.
    void t.app.get(SchedulerRegistry).getCronJob('hold-expiry').stop();
    const make = factories(t.dataSource);
    ids = [];
    for (let i = 0; i < 250; i++) ids.push((await make.makeProduct({ stock: 10 + (i % 7) })).id);
    // Some availability to show: a hold on the first product and on the last.
    await make.makeHold({ productId: ids[0], qty: 3 });
    await make.makeHold({ productId: ids[249], qty: 2 });
  }, 120_000);
  afterAll(() => t.close());

  it('without a query string answers the first 50 products and the cursor (old clients read `data`)', async () => {
    const res = await t.http().get('/api/products').expect(200);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'next_after_id']);
    expect((res.body.data as ListedProduct[]).map((p) => p.id)).toEqual(ids.slice(0, 50));
    expect(res.body.next_after_id).toBe(ids[49]);
    expect(res.body.data[0]).toMatchObject({ id: ids[0], stock: 10, available: 7 });
  });

  it.each([7, 50, 200])('walking pages of %i visits every product once, in ascending id, one statement per page', async (limit) => {
    const seen: ListedProduct[] = [];
    const counts: number[] = [];
    let after = 0;
    for (let pages = 0; pages < 100; pages++) {
      const { result: res, statements } = await countStatements(t.dataSource, () => t.http().get(`/api/products?limit=${limit}&after_id=${after}`).expect(200));
      counts.push(statements.length);
      const data = res.body.data as ListedProduct[];
      expect(data.length).toBeLessThanOrEqual(limit);
      seen.push(...data);
      if (res.body.next_after_id === null) break;
      expect(data).toHaveLength(limit);
      expect(res.body.next_after_id).toBe(data[data.length - 1].id);
      after = res.body.next_after_id as number;
    }
    expect(seen.map((p) => p.id)).toEqual(ids);
    expect(counts.every((n) => n === 1)).toBe(true);
    expect(seen[249]).toMatchObject({ id: ids[249], available: seen[249].stock - 2 });
  });

  it('a page that ends exactly at the last product says so, and a cursor past it is an empty last page', async () => {
    const last = await t.http().get(`/api/products?limit=50&after_id=${ids[199]}`).expect(200);
    expect((last.body.data as ListedProduct[]).map((p) => p.id)).toEqual(ids.slice(200));
    expect(last.body.next_after_id).toBeNull();
    const past = await t.http().get(`/api/products?after_id=${ids[249]}`).expect(200);
    expect(past.body).toEqual({ data: [], next_after_id: null });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=01', 'limit'],
    ['limit=', 'limit'],
    ['after_id=-1', 'after_id'],
    ['after_id=1e3', 'after_id'],
    ['after_id=9007199254740992', 'after_id'],
    ['limit=5&limit=6', 'limit'],
    ['page=2', 'page'],
  ])('?%s is 400 validation_failed naming %s, before any statement', async (query, field) => {
    const { result: res, statements } = await countStatements(t.dataSource, () => t.http().get(`/api/products?${query}`).expect(400));
    expect(res.body).toMatchObject({ statusCode: 400, error: 'validation_failed', details: [expect.objectContaining({ field })] });
    expect(statements).toEqual([]);
  });

  it('reports every bad parameter at once', async () => {
    const res = await t.http().get('/api/products?limit=0&after_id=-1').expect(400);
    expect((res.body.details as Array<{ field: string }>).map((d) => d.field).sort()).toEqual(['after_id', 'limit']);
  });
});
