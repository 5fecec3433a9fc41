import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../common/all-exceptions.filter';
import { parseCreateHold } from '../hold/dto/create-hold.dto';
import { clientGone } from '../http/client-gone';
import { behindGuards, serveDirectly } from '../http/direct-route';
import { routeDeclarations } from '../http/rate-limit';
import { checkJsonBody } from '../http/request-guards';
import { IdempotencyGate } from '../idempotency/idempotency-gate';
import { CheckoutController } from './checkout.controller';
import { PlaceHoldService } from './place-hold.service';

const logger = new Logger('http');

/**
 * POST /api/holds, the route a drop's buyers hit hardest, answered by a plain Fastify handler
 * (serveDirectly): nothing per request needs Nest's machinery, whose router, guards and pipes made
 * about a fifth of the bytes a hold allocated (README, "The framework's cost").
 *
 * The steps are CheckoutController.placeHold's, in Nest's order, each by the same code and by what
 * `placeHold` declares: the global guards (behindGuards: its route auth, on a buyer route the
 * buyer from the token or null with BUYER_AUTH=off, then its rate limit when limits are on; the
 * JSON body, `checkJsonBody`), the route's 201 set before the handler runs (a replay sets its own
 * status after), then the same work through the Idempotency-Key gate under its scope, sent by
 * Fastify as Nest sends it; every error leaves through the exception filter's `sendError`. The app
 * refuses to start if `placeHold` declares no scope. The request context (a Fastify preHandler) is
 * unchanged.
 * test/place-hold-route.e2e-spec.ts holds the two to the same answers.
 */
export function serveHoldsDirectly(app: NestFastifyApplication): void {
  const gate = app.get(IdempotencyGate);
  const holds = app.get(PlaceHoldService);
  const { scope } = routeDeclarations(CheckoutController, 'placeHold');
  if (!scope) throw new Error('CheckoutController.placeHold declares no Idempotency-Key scope (@IdempotentScope)');

  serveDirectly(
    app,
    'POST',
    '/api/holds',
    behindGuards(app, CheckoutController, 'placeHold', function placeHoldDirectly(req: FastifyRequest, reply: FastifyReply): void {
      try {
        checkJsonBody(req);
      } catch (err) {
        sendError(reply, req, err, logger);
        return;
      }
      reply.status(201);
      gate
        .run(scope, req, reply, (claim) => holds.place(parseCreateHold(req.body), claim, clientGone(req), req.buyer ?? null))
        .then((body) => reply.send(body))
        .catch((err: unknown) => sendError(reply, req, err, logger));
    }),
  );
}
