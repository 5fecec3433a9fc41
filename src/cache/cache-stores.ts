import { Logger } from '@nestjs/common';
import KeyvRedis from '@keyv/redis';
import { createClient } from '@redis/client';
import { Keyv } from 'keyv';
import { AppConfig } from '../config/config';

const logger = new Logger('cache');

/** Redis keys read `flash-sale::<database>:product:<id>`: instances on one database share them. */
const CACHE_NAMESPACE = 'flash-sale';

/** How long a Redis command may take before the read falls back to the database. */
export const REDIS_COMMAND_TIMEOUT_MS = 200;

/**
 * The Redis adapter, made to fail fast: commands are refused at once while the connection is
 * down (no offline queue), so a read falls back to the database instead of waiting; the client
 * keeps reconnecting in the background; shutdown drops the socket instead of sending QUIT to a
 * server that may be gone.
 */
class FailFastKeyvRedis extends KeyvRedis<unknown> {
  override disconnect(): Promise<void> {
    if (this.client.isOpen) (this.client as ReturnType<typeof createClient>).destroy();
    return Promise.resolve();
  }
}

function redisStore(url: string): Keyv {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
    },
  });
  let up: boolean | undefined;
  const report = (now: boolean, detail?: string): void => {
    if (up === now) return;
    up = now;
    if (now) logger.log({ msg: 'cache.redis_up' });
    else logger.warn({ msg: 'cache.redis_down', err: detail });
  };
  client.on('ready', () => report(true));
  client.on('error', (err: Error) => report(false, err.message));
  client.connect().catch((err: Error) => report(false, err.message));

  const adapter = new FailFastKeyvRedis(client, { throwOnConnectError: false, throwOnErrors: false });
  adapter.on('error', () => undefined);
  const keyv = new Keyv({ store: adapter, namespace: CACHE_NAMESPACE, useKeyPrefix: false });
  keyv.on('error', () => undefined);
  return keyv;
}

/**
 * The stores behind CACHE_MANAGER: none (cache-manager's in-process store) by default, Redis when
 * REDIS_URL is set so that several instances share one cache.
 */
export function cacheStores(config: AppConfig): Keyv[] | undefined {
  return config.redisUrl ? [redisStore(config.redisUrl)] : undefined;
}
