import { createHash, hash } from 'node:crypto';
import { ExecutionContext, INestApplicationContext, Inject, Injectable, Logger, SetMetadata, Type } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerModuleOptions, ThrottlerRequest, ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { buyerKeyScope } from '../common/buyer';
import { sendError } from '../common/all-exceptions.filter';
import { RateLimitedError } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from '../observability/metrics.service';

/** Metadata key of a route's Idempotency-Key scope (set by the idempotency module's `@IdempotentScope`). */
export const IDEMPOTENT_SCOPE = 'idempotent_scope';

/**
 * Whether an Idempotency-Key already has a stored answer on a route: provided by the idempotency
 * module (IdempotencyService, above this layer), so the guard can let a replay through uncounted.
 */
export interface StoredAnswers {
  find(scope: string, key: string): Promise<unknown>;
}
export const STORED_ANSWERS = Symbol('STORED_ANSWERS');

/** The two limits: `holds` (POST /api/holds and POST /api/orders together) and `reads` (the other public routes). */
export type RateLimitClass = 'holds' | 'reads';
const RATE_LIMIT_CLASS = 'rate_limit_class';
const WINDOW_MS = 60_000;

/** What a route handler declares: the limit it counts against (`@RateLimited`) and its Idempotency-Key scope (`@IdempotentScope`). */
export interface RouteDeclarations {
  limit?: RateLimitClass;
  scope?: string;
}

/** A handler's declarations, each undefined when not declared: read with reflect-metadata, as SetMetadata stored them. */
function declarationsOf(handler: object): RouteDeclarations {
  return {
    limit: Reflect.getMetadata(RATE_LIMIT_CLASS, handler) as RateLimitClass | undefined,
    scope: Reflect.getMetadata(IDEMPOTENT_SCOPE, handler) as string | undefined,
  };
}

/** The declarations of a controller's route handler `method`, as the guard reads them on the Nest route. */
export function routeDeclarations<T>(controller: Type<T>, method: keyof T & string): RouteDeclarations {
  return declarationsOf((controller.prototype as T)[method] as object);
}

/** The route counts against RATE_LIMIT_HOLDS_PER_MINUTE or RATE_LIMIT_READS_PER_MINUTE; routes without it are never limited. */
export const RateLimited = (limit: RateLimitClass) => SetMetadata(RATE_LIMIT_CLASS, limit);

/** Whether any limit is on (a limit of 0 is off); with none, no guard is installed at all. */
export function rateLimitsOn(config: AppConfig): boolean {
  return config.rateLimitHoldsPerMinute > 0 || config.rateLimitReadsPerMinute > 0;
}

/**
 * The Redis storage of @nest-lab/throttler-storage-redis, its script run by digest (EVALSHA)
 * rather than sent whole with EVAL on every request, so Redis neither reads nor hashes the
 * script's text per request (commandstats on the fairness bench: 9.0 µs per EVALSHA against 11.2
 * per EVAL) and the request is a tenth of the bytes. The script is the storage's own, unchanged;
 * on NOSCRIPT (a restarted or flushed Redis) one EVAL loads it again.
 */
export class ScriptedRedisThrottlerStorage extends ThrottlerStorageRedisService {
  private readonly scriptSha = createHash('sha1').update(this.scriptSrc).digest('hex');

  override async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): ReturnType<ThrottlerStorage['increment']> {
    const args = [`{${key}:${throttlerName}}:hits`, `{${key}:${throttlerName}}:blocked`, throttlerName, ttl, limit, blockDuration];
    let results: unknown;
    try {
      results = await this.redis.evalsha(this.scriptSha, 2, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      results = await this.redis.eval(this.scriptSrc, 2, ...args);
    }
    if (!Array.isArray(results) || results.length !== 4 || !results.every((n) => typeof n === 'number')) {
      throw new TypeError(`Expected the rate limit script to answer four numbers, got ${String(results)}`);
    }
    const [totalHits, timeToExpire, isBlocked, timeToBlockExpire] = results;
    return { totalHits, timeToExpire: Math.ceil(timeToExpire / 1000), isBlocked: isBlocked === 1, timeToBlockExpire: Math.ceil(timeToBlockExpire / 1000) };
  }
}

/**
 * @nestjs/throttler's options: one fixed window of a minute per limit that is on, a block that
 * lasts one window from the first refused request, and the counters in Redis
 * (@nest-lab/throttler-storage-redis) when REDIS_URL is set, so every instance shares them;
 * otherwise in this process. A Redis that is down or slow lets requests through (RateLimitGuard):
 * the limit protects the sale, it must not stop it.
 */
export function rateLimitOptions(config: AppConfig): ThrottlerModuleOptions {
  const throttlers = [
    { name: 'holds', limit: config.rateLimitHoldsPerMinute },
    { name: 'reads', limit: config.rateLimitReadsPerMinute },
  ]
    .filter((t) => t.limit > 0)
    // A route counts against one limit only, the one it names (RateLimitGuard.canActivate).
    .map((t) => ({ ...t, ttl: WINDOW_MS, blockDuration: WINDOW_MS, setHeaders: false }));
  if (!config.redisUrl) return { throttlers };
  const storage = new ScriptedRedisThrottlerStorage(config.redisUrl, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    commandTimeout: 200,
    connectTimeout: 1000,
    retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
  });
  storage.redis.on('error', () => undefined); // reported per request by the guard, as a pass
  return { throttlers, storage };
}

/**
 * Rate limits per buyer when the route knows one (RouteAuthGuard runs first), else per client
 * address (`req.ip`, from X-Forwarded-For with TRUST_PROXY=true). Over the limit: 429
 * `rate_limited` with Retry-After, counted in `rate_limited_total{route}`. A request whose
 * Idempotency-Key already has a stored answer is neither refused nor counted: its replay costs
 * nothing. Counters are keyed by the database name, so services of different databases sharing a
 * Redis do not share limits.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly log = new Logger('http');
  @Inject(APP_CONFIG) private readonly config!: AppConfig;
  @Inject(STORED_ANSWERS) private readonly storedAnswers!: StoredAnswers;
  @Inject(MetricsService) private readonly metrics!: MetricsService;

  /**
   * The route's one limit, straight to the throttler's own `handleRequest` (tracker, key, the
   * storage's count, the 429): the route names its limit (`@RateLimited`) and the limits come from
   * the configuration only, so the base class's per-request lookups of `@Throttle`/`@SkipThrottle`
   * overrides for every throttler (ten metadata reads and three awaited resolutions a request,
   * none of which this service uses) are left out.
   */
  override canActivate(context: ExecutionContext): Promise<boolean> {
    return this.check(declarationsOf(context.getHandler()), context);
  }

  /**
   * The same check for a route answered outside Nest's router (serveDirectly), by the declarations
   * of the Nest handler it stands in for (routeDeclarations). Resolves when the request may go on;
   * rejects with RateLimitedError (429) past the limit.
   */
  async admit(req: FastifyRequest, reply: FastifyReply, route: RouteDeclarations): Promise<void> {
    await this.check(route, new ExecutionContextHost([req, reply]));
  }

  /**
   * The route's throttler, a stored Idempotency-Key answer let through uncounted, then the
   * throttler's own `handleRequest` (the 429 and its metric, a failing Redis letting the request
   * through).
   */
  private async check({ limit, scope }: RouteDeclarations, context: ExecutionContext): Promise<boolean> {
    const throttler = limit && this.throttlers.find((t) => t.name === limit);
    if (!throttler || (await this.hasStoredAnswer(scope, context.switchToHttp().getRequest<FastifyRequest>()))) return true;
    return this.handleRequest({
      context,
      limit: throttler.limit as number,
      ttl: throttler.ttl as number,
      blockDuration: throttler.blockDuration as number,
      throttler,
      getTracker: this.commonOptions.getTracker!,
      generateKey: this.commonOptions.generateKey!,
    });
  }

  /** A request whose Idempotency-Key already has a stored answer for its buyer: its replay is neither refused nor counted. */
  private async hasStoredAnswer(scope: string | undefined, req: FastifyRequest): Promise<boolean> {
    const key = req.headers['idempotency-key'];
    if (!scope || typeof key !== 'string' || key.length === 0 || key.length > 255) return false;
    return (await this.storedAnswers.find(buyerKeyScope(scope, req.buyer), key).catch(() => undefined)) !== undefined;
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(props);
    } catch (err) {
      if (err instanceof RateLimitedError) throw err;
      this.log.warn({ msg: 'rate_limit.unavailable', err: err instanceof Error ? err.message : String(err) });
      return true;
    }
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    const request = req as unknown as FastifyRequest;
    return Promise.resolve(request.buyer ? `buyer:${request.buyer}` : `ip:${request.ip}`);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    // One counter per limit and tracker, whatever the route: holds and orders share theirs. The
    // one-shot `hash` makes no Hash object per request.
    return `rate:${this.config.db.name}:${name}:${hash('sha256', tracker, 'base64url')}`;
  }

  protected override throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    this.metrics.rateLimited(req.routeOptions.url ?? 'unmatched');
    throw new RateLimitedError(detail.timeToBlockExpire);
  }
}

const logger = new Logger('http');

/**
 * A directly served route's handler (serveDirectly) behind the route's rate limit: with limits on,
 * RateLimitGuard.admit first, by `route`, the declarations of the Nest handler the route stands in
 * for (routeDeclarations), and a refusal (429) sent through the exception filter's `sendError`;
 * with limits off, `handler` itself.
 */
export function behindRateLimit<R extends FastifyRequest>(
  app: INestApplicationContext,
  route: RouteDeclarations,
  handler: (req: R, reply: FastifyReply) => void,
): (req: R, reply: FastifyReply) => void {
  if (!rateLimitsOn(app.get<AppConfig>(APP_CONFIG))) return handler;
  const guard = app.get(RateLimitGuard);
  return (req, reply) => {
    guard.admit(req, reply, route).then(
      () => handler(req, reply),
      (err: unknown) => sendError(reply, req, err, logger),
    );
  };
}
