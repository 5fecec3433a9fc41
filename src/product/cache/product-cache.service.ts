import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { ListProductsQuery } from '../dto/list-products.query';
import { ProductListResponse, ProductResponse } from '../dto/product.response';
import { ProductService } from '../product.service';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../cache/cache-stores';

/** Commits within this window share one refresh of a product's cached availability. */
const REFRESH_DELAY_MS = 20;

/** Pages of the product list this instance refreshes after commits (the most recently read ones). */
const MAX_TRACKED_PAGES = 256;

type Loader<T> = () => Promise<T>;

/** A failing cache call answers `fallback`; with Redis, so does one slower than REDIS_COMMAND_TIMEOUT_MS. */
function withTimeout<T>(work: Promise<T>, fallback: T, remote: boolean): Promise<T> {
  if (!remote) return work.catch(() => fallback);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), REDIS_COMMAND_TIMEOUT_MS);
  });
  return Promise.race([work.catch(() => fallback), timeout]).finally(() => clearTimeout(timer));
}

/**
 * The short cache of product reads (AVAILABILITY_CACHE_TTL_MS; 0 turns it off).
 *
 * - An entry lives at most the TTL counted from the moment its database read started, so what it
 *   shows never lags the truth by more than the TTL; it is one row read, so `0 <= available <= stock`.
 * - Concurrent misses for one key share one database read (single flight per instance).
 * - After a transaction that moved a product's stock commits, the product's entry and the pages
 *   of the list that may show it are re-read and overwritten (not dropped), so reads keep hitting
 *   during a burst of holds; commits within REFRESH_DELAY_MS share one re-read. The pages are the
 *   ones this instance has read within the TTL (at most MAX_TRACKED_PAGES); any other page's entry
 *   simply ends with its TTL.
 * - A cache that fails or is slow (Redis gone) is treated as a miss: reads go to the database.
 */
@Injectable()
export class ProductCacheService implements OnModuleDestroy {
  private readonly logger = new Logger('cache');
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  /** Page keys read lately, oldest first, with their query and when they were last read. */
  private readonly pages = new Map<string, { query: ListProductsQuery; readAt: number }>();
  private readonly prefix: string;
  private readonly remote: boolean;
  private closed = false;

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly products: ProductService,
  ) {
    this.prefix = `${config.db.name}:`;
    this.remote = config.redisUrl !== undefined;
  }

  get enabled(): boolean {
    return this.config.availabilityCacheTtlMs > 0;
  }

  productKey(id: number): string {
    return `${this.prefix}product:${id}`;
  }

  /** The key of one page of the list; the page is remembered so that commits refresh it. */
  pageKey(query: ListProductsQuery): string {
    const key = `${this.prefix}products:${query.afterId}:${query.limit}`;
    this.pages.delete(key);
    this.pages.set(key, { query, readAt: Date.now() });
    if (this.pages.size > MAX_TRACKED_PAGES) this.pages.delete(this.pages.keys().next().value!);
    return key;
  }

  /** GET /api/products/:id through the cache. Throws ProductNotFoundError (never cached). */
  product(id: number): Promise<ProductResponse> {
    return this.read(this.productKey(id), () => this.products.findOne(id));
  }

  /** GET /api/products (one page) through the cache. */
  page(query: ListProductsQuery): Promise<ProductListResponse> {
    return this.read(this.pageKey(query), () => this.products.page(query));
  }

  /** The cached value of `key`, or the loader's (one loader call for all concurrent misses). */
  async read<T>(key: string, loader: Loader<T>): Promise<T> {
    if (!this.enabled) return loader();
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const hit = await withTimeout(this.cache.get<T>(key), undefined, this.remote);
    if (hit !== undefined && hit !== null) return hit;
    // Another miss may have started its read while this one waited for the store (Redis).
    const started = this.inflight.get(key) as Promise<T> | undefined;
    return started ?? this.load(key, loader);
  }

  /**
   * A transaction that moved this product's stock has committed: re-read its entry and the pages
   * read within the TTL that may show it (those starting before it).
   */
  changed(productId: number): void {
    if (!this.enabled || this.closed) return;
    this.schedule(this.productKey(productId), () => this.products.findOne(productId));
    const since = Date.now() - this.config.availabilityCacheTtlMs;
    for (const [key, { query, readAt }] of this.pages) {
      if (readAt < since) this.pages.delete(key);
      else if (query.afterId < productId) this.schedule(key, () => this.products.page(query));
    }
  }

  onModuleDestroy(): void {
    this.closed = true;
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  private load<T>(key: string, loader: Loader<T>): Promise<T> {
    const started = Date.now();
    const work = loader()
      .then(async (value) => {
        await this.store(key, value, started);
        return value;
      })
      .finally(() => {
        if (this.inflight.get(key) === work) this.inflight.delete(key);
      });
    this.inflight.set(key, work);
    return work;
  }

  /** Stores with what is left of the TTL since the read began; a read that took longer is not kept. */
  private async store(key: string, value: unknown, readStartedAt: number): Promise<void> {
    const ttl = this.config.availabilityCacheTtlMs - (Date.now() - readStartedAt);
    if (ttl <= 0) return;
    await withTimeout(this.cache.set(key, value, ttl), undefined, this.remote);
  }

  /**
   * One re-read per key per REFRESH_DELAY_MS. A refresh scheduled but not yet started will read
   * after every commit that asked for it; a commit during a running refresh schedules another.
   */
  private schedule(key: string, loader: Loader<unknown>): void {
    if (this.scheduled.has(key)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(key);
      if (this.closed) return;
      this.load(key, loader).catch(async (err: unknown) => {
        this.logger.warn({ msg: 'cache.refresh_failed', key, err: err instanceof Error ? err.message : String(err) });
        await withTimeout(this.cache.del(key), false, this.remote);
      });
    }, REFRESH_DELAY_MS);
    this.scheduled.set(key, timer);
  }
}
