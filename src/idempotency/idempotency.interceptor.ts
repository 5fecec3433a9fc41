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
import { catchError, finalize, from, Observable, of, switchMap } from 'rxjs';
import { toErrorResponse } from '../common/error-response';
import { IdempotencyKeyInFlightError, IdempotencyKeyReusedError, ValidationFailedError } from '../common/errors';
import { IdempotencyClaim, IdempotencyKeyTakenError, IdempotencyService, StoredAnswer } from './idempotency.service';
import { isValidIdempotencyKey, requestHash } from './request-hash';

const IDEMPOTENT_SCOPE = 'idempotent_scope';

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
 * Replays the first answer for a known key (same body) with `Idempotent-Replayed: true`, refuses a
 * known key with another body (422) or one whose first request is still running (409), and
 * otherwise lets the request run with a claim that the service records in its transaction.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  /** Keys being processed by this instance; other instances are seen through the row lock. */
  private readonly inFlight = new Set<string>();

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
    const claim: IdempotencyClaim = { scope, key: header, hash: requestHash(req.body) };
    const slot = `${scope}\u0000${header}`;
    if (this.inFlight.has(slot)) throw new IdempotencyKeyInFlightError();
    this.inFlight.add(slot);
    return from(this.idempotency.find(scope, header)).pipe(
      switchMap((stored) => {
        if (stored) return of(this.replay(stored, claim, reply));
        req.idempotencyClaim = claim;
        return next.handle().pipe(catchError((err: unknown) => from(this.afterFailure(err, claim, reply))));
      }),
      finalize(() => this.inFlight.delete(slot)),
    );
  }

  private replay(stored: StoredAnswer, claim: IdempotencyClaim, reply: FastifyReply): unknown {
    if (stored.hash !== claim.hash) throw new IdempotencyKeyReusedError();
    reply.status(stored.status).header('Idempotent-Replayed', 'true');
    return stored.body;
  }

  /** A refusal is stored and re-thrown; a lost race for the key replays the winner's answer. */
  private async afterFailure(err: unknown, claim: IdempotencyClaim, reply: FastifyReply): Promise<unknown> {
    if (err instanceof IdempotencyKeyTakenError) {
      const stored = await this.idempotency.find(claim.scope, claim.key);
      if (stored) return this.replay(stored, claim, reply);
      throw new IdempotencyKeyInFlightError();
    }
    const answer = toErrorResponse(err);
    if (answer.status < 500) await this.idempotency.recordAnswer(claim, answer.status, answer.body);
    throw err;
  }
}
