import { Injectable, SetMetadata } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { buyerKeyScope } from '../common/buyer';
import { toErrorResponse } from '../common/error-response';
import { IDEMPOTENT_SCOPE } from '../http/rate-limit';
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError, ValidationFailedError } from '../common/errors';
import { IdempotencyClaim, IdempotencyKeyTakenError, IdempotencyService, StoredAnswer } from './idempotency.service';
import { isValidIdempotencyKey, requestHash } from './request-hash';

/**
 * Names the route's Idempotency-Key scope in its metadata (the scope its handler passes to
 * IdempotencyGate.run), so that the rate limits can serve a stored answer's replay uncounted.
 */
export const IdempotentScope = (scope: string) => SetMetadata(IDEMPOTENT_SCOPE, scope);

/**
 * `Idempotency-Key` for a POST route (holds, orders); keys are scoped to the route and to the
 * request's buyer (buyerKeyScope: one buyer's key never replays to another). The route's
 * handler runs its work through `run`: a request without the header runs it at once, with no
 * further cost (these are the hottest routes of a drop, and most requests carry no key). With a
 * key, the key is claimed first (IdempotencyService.claim): a stored answer is replayed with
 * `Idempotent-Replayed: true` (422 for another body), a claim in flight anywhere is 409, and
 * otherwise the work runs holding the claim, which its service fills in inside the effect's
 * transaction. A refusal (4xx, including the body's field checks, which the work runs first) is
 * recorded afterwards and sent only if it became the key's answer; a failure (5xx) gives the
 * claim up so that a retry runs again.
 *
 * A plain async function rather than a Nest interceptor: an interceptor puts every request of the
 * route, key or not, through an rxjs chain and two async-context bindings.
 */
@Injectable()
export class IdempotencyGate {
  constructor(private readonly idempotency: IdempotencyService) {}

  async run<T>(scope: string, req: FastifyRequest, reply: FastifyReply, work: (claim?: IdempotencyClaim) => Promise<T>): Promise<unknown> {
    const header = req.headers['idempotency-key'];
    if (header === undefined) return work(undefined);
    if (!isValidIdempotencyKey(header)) {
      throw new ValidationFailedError([{ field: 'Idempotency-Key', problem: 'must be 1 to 255 printable ASCII characters' }]);
    }
    const hash = requestHash(req.body);
    const result = await this.idempotency.claim(buyerKeyScope(scope, req.buyer), header, hash);
    if ('stored' in result) return this.replay(result.stored, hash, reply);
    try {
      return await work(result.claim);
    } catch (err) {
      return this.afterFailure(err, result.claim, reply);
    }
  }

  private replay(stored: StoredAnswer, hash: string, reply: FastifyReply): unknown {
    if (stored.hash !== hash) throw new IdempotencyKeyReusedError();
    reply.status(stored.status).header('Idempotent-Replayed', 'true');
    return stored.body;
  }

  /** The key's answer if it has one by now (the first answer), else 409 in flight. */
  private async replayOrInFlight(claim: IdempotencyClaim, reply: FastifyReply): Promise<unknown> {
    const stored = await this.idempotency.find(claim.scope, claim.key);
    if (stored) return this.replay(stored, claim.hash, reply);
    throw new IdempotencyKeyInFlightError();
  }

  private async afterFailure(err: unknown, claim: IdempotencyClaim, reply: FastifyReply): Promise<unknown> {
    if (err instanceof IdempotencyKeyTakenError) return this.replayOrInFlight(claim, reply);
    const answer = toErrorResponse(err);
    if (answer.status >= 500) {
      await this.idempotency.release(claim).catch(() => undefined); // else the claim lapses with its lease
      throw err;
    }
    if (!(await this.idempotency.recordAnswer(claim, answer.status, answer.body))) return this.replayOrInFlight(claim, reply);
    throw err;
  }
}
