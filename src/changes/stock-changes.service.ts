import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createClient } from '@redis/client';
import { APP_CONFIG, AppConfig } from '../config/config';

/** Like the cache's client: no offline queue (a publish while Redis is down fails at once), reconnects by itself. */
function redisClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  });
}
type RedisClient = ReturnType<typeof redisClient>;
export type StockChangeListener = (productId: number) => void;

/** How long the start waits for the subscription before it goes on without it (it keeps trying). */
const SUBSCRIBE_WAIT_MS = 1000;

/**
 * "A product's stock or availability may have changed": told once per committed transaction that
 * moved stock (StockService, after the commit), heard by whoever keeps live views of products
 * (the availability streams). It carries no value, only the product id: listeners read the value
 * themselves, once per product however many clients they serve.
 *
 * Without REDIS_URL the news stays in this process. With it, every instance publishes its changes
 * on one Redis channel per database (`flash-sale:<database>:stock-changed`) and hears the others'.
 * Changes of one event-loop turn go out as one message; an instance skips its own messages (it has
 * already told its listeners). Redis down: the message is dropped (never queued); streams on other
 * instances then catch up at the next change that gets through.
 */
@Injectable()
export class StockChangesService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('changes');
  private readonly listeners = new Set<StockChangeListener>();
  private readonly instance = randomUUID();
  private readonly channel: string;
  private pending = new Set<number>();
  private flushScheduled = false;
  private publisher: RedisClient | undefined;
  private subscriber: RedisClient | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.channel = `flash-sale:${config.db.name}:stock-changed`;
  }

  async onModuleInit(): Promise<void> {
    const url = this.config.redisUrl;
    if (!url) return;
    this.publisher = this.client(url, 'publisher');
    this.subscriber = this.client(url, 'subscriber');
    this.publisher.connect().catch(() => undefined);
    const subscribed = this.subscriber
      .connect()
      .then((sub) => sub.subscribe(this.channel, (message) => this.received(message)))
      .catch((err: Error) => this.logger.warn({ msg: 'changes.subscribe_failed', err: err.message }));
    await Promise.race([subscribed, new Promise((r) => setTimeout(r, SUBSCRIBE_WAIT_MS).unref())]);
  }

  onModuleDestroy(): void {
    for (const client of [this.publisher, this.subscriber]) if (client?.isOpen) client.destroy();
    this.listeners.clear();
  }

  /** Registers a listener; returns the function that removes it. */
  listen(listener: StockChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A transaction that moved this product's stock has committed. Cheap: no I/O before the next turn. */
  changed(productId: number): void {
    this.notify(productId);
    if (!this.publisher) return;
    this.pending.add(productId);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const ids = [...this.pending];
    this.pending = new Set();
    if (!this.publisher?.isReady || ids.length === 0) return;
    this.publisher.publish(this.channel, `${this.instance} ${ids.join(',')}`).catch(() => undefined);
  }

  private received(message: string): void {
    const [from, ids] = message.split(' ');
    if (from === this.instance || ids === undefined) return;
    for (const id of ids.split(',')) {
      const productId = Number(id);
      if (Number.isSafeInteger(productId) && productId > 0) this.notify(productId);
    }
  }

  private notify(productId: number): void {
    for (const listener of this.listeners) {
      try {
        listener(productId);
      } catch (err) {
        this.logger.warn({ msg: 'changes.listener_failed', err: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** A client that logs when it goes down and comes back. */
  private client(url: string, role: string): RedisClient {
    const client = redisClient(url);
    let up: boolean | undefined;
    client.on('ready', () => {
      if (up !== true) this.logger.log({ msg: 'changes.redis_up', role });
      up = true;
    });
    client.on('error', (err: Error) => {
      if (up !== false) this.logger.warn({ msg: 'changes.redis_down', role, err: err.message });
      up = false;
    });
    return client;
  }
}
