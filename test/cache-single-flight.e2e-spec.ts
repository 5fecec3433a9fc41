import { ProductCacheService } from '../src/product/cache/product-cache.service';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_cache_single_flight';

describe('the availability cache on Redis: concurrent misses share one read', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(DB, { REDIS_URL: 'redis://127.0.0.1:6379', AVAILABILITY_CACHE_TTL_MS: '5000' });
  });
  afterAll(() => t.close());

  it('misses that were waiting on Redis when the first read began join that read', async () => {
    const cache = t.app.get(ProductCacheService);
    const key = cache.productKey(Date.now());
    let loads = 0;
    const loader = async () => {
      loads += 1;
      await new Promise((r) => setTimeout(r, 50));
      return { loaded: loads };
    };
    // All 50 ask Redis first (a miss each); the first answer starts the read, the rest must join it.
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.read(key, loader)));
    expect(loads).toBe(1);
    expect(new Set(values.map((v) => JSON.stringify(v)))).toEqual(new Set([JSON.stringify({ loaded: 1 })]));
  });
});
