import 'reflect-metadata';
import Redis from 'ioredis';
import { IdempotentScope } from '../idempotency/idempotency-gate';
import { RateLimited, routeDeclarations, ScriptedRedisThrottlerStorage } from './rate-limit';

class RoutesController {
  @RateLimited('holds')
  @IdempotentScope('holds')
  place(): void {}

  @RateLimited('reads')
  read(): void {}

  open(): void {}
}

describe('routeDeclarations', () => {
  it("reads a route handler's limit and Idempotency-Key scope, each undefined when not declared", () => {
    expect(routeDeclarations(RoutesController, 'place')).toEqual({ limit: 'holds', scope: 'holds' });
    expect(routeDeclarations(RoutesController, 'read')).toEqual({ limit: 'reads', scope: undefined });
    expect(routeDeclarations(RoutesController, 'open')).toEqual({ limit: undefined, scope: undefined });
  });
});

describe('ScriptedRedisThrottlerStorage', () => {
  const redis = new Redis({ lazyConnect: true });
  const storage = new ScriptedRedisThrottlerStorage(redis);
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => redis.disconnect());

  it('runs the script by its digest and converts the answer to seconds', async () => {
    const evalsha = jest.spyOn(redis, 'evalsha').mockResolvedValue([2, 59_500, 0, 0]);
    const evalFull = jest.spyOn(redis, 'eval');
    await expect(storage.increment('k', 60_000, 3, 60_000, 'holds')).resolves.toEqual({
      totalHits: 2,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    expect(evalsha).toHaveBeenCalledWith(expect.stringMatching(/^[0-9a-f]{40}$/), 2, '{k:holds}:hits', '{k:holds}:blocked', 'holds', 60_000, 3, 60_000);
    expect(evalFull).not.toHaveBeenCalled();
  });

  it('sends the whole script once when Redis does not know it (NOSCRIPT)', async () => {
    jest.spyOn(redis, 'evalsha').mockRejectedValue(new Error('NOSCRIPT No matching script. Please use EVAL.'));
    const evalFull = jest.spyOn(redis, 'eval').mockResolvedValue([4, 30_000, 1, 60_000]);
    await expect(storage.increment('k', 60_000, 3, 60_000, 'holds')).resolves.toEqual({
      totalHits: 4,
      timeToExpire: 30,
      isBlocked: true,
      timeToBlockExpire: 60,
    });
    expect(evalFull).toHaveBeenCalledWith(storage.scriptSrc, 2, '{k:holds}:hits', '{k:holds}:blocked', 'holds', 60_000, 3, 60_000);
  });

  it('passes any other failure on (the guard lets the request through with a warning)', async () => {
    jest.spyOn(redis, 'evalsha').mockRejectedValue(new Error('Command timed out'));
    const evalFull = jest.spyOn(redis, 'eval');
    await expect(storage.increment('k', 60_000, 3, 60_000, 'holds')).rejects.toThrow('Command timed out');
    expect(evalFull).not.toHaveBeenCalled();
  });

  it('refuses an answer that is not four numbers', async () => {
    jest.spyOn(redis, 'evalsha').mockResolvedValue(['1', 0, 0, 0]);
    await expect(storage.increment('k', 60_000, 3, 60_000, 'holds')).rejects.toThrow(TypeError);
  });
});
