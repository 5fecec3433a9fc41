import {
  applyDecorators,
  CallHandler,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, from, Observable, of, switchMap } from 'rxjs';
import { toErrorResponse } from '../common/error-response';
import { IDEMPOTENT_SCOPE } from '../http/rate-limit';
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError, ValidationFailedError } from '../common/errors';
import { IdempotencyClaim, IdempotencyKeyTakenError, IdempotencyService, StoredAnswer } from './idempotency.service';
import { isValidIdempotencyKey, requestHash } from './request-hash';

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim?: IdempotencyClaim;
  }
}

/**
 * Makes a POST route honour `Idempotency-Key`; keys are scoped to the route. The interceptor is
 * attached to these routes only, so other routes (the hot product reads) do not pass through it.
 */
export const Idempotent = (scope: string) => applyDecorators(SetMetadata(IDEMPOTENT_SCOPE, scope), UseInterceptors(IdempotencyInterceptor));

/** The request's claim (undefined without an Idempotency-Key), for the service's transaction. */
export const IdempotencyClaimParam = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): IdempotencyClaim | undefined => ctx.switchToHttp().getRequest<FastifyRequest>().idempotencyClaim,
);

/**
 * Claims the key before the route runs (IdempotencyService.claim): a stored answer is replayed
 * with `Idempotent-Replayed: true` (422 for another body), a claim in flight anywhere is 409, and
 * otherwise the route runs holding the claim, which its service fills in inside the effect's
 * transaction. A refusal (4xx) is recorded afterwards and sent only if it became the key's answer;
 * a failure (5xx) gives the claim up so that a retry runs again.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly idempotency: IdempotencyService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const scope = this.reflector.get<string | undefined>(IDEMPOTENT_SCOPE, context.getHandler());
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const header = req.headers['idempotency-key'];
    if (!scope || header === undefined) return next.handle();
    if (!isValidIdempotencyKey(header)) {
      throw new ValidationFailedError([{ field: 'Idempotency-Key', problem: 'must be 1 to 255 printable ASCII characters' }]);
    }
    const hash = requestHash(req.body);
    return from(this.idempotency.claim(scope, header, hash)).pipe(
      switchMap((result) => {
        if ('stored' in result) return of(this.replay(result.stored, hash, reply));
        req.idempotencyClaim = result.claim;
        return next.handle().pipe(catchError((err: unknown) => from(this.afterFailure(err, result.claim, reply))));
      }),
    );
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
