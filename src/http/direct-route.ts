import type { INestApplicationContext, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify';
import { behindRateLimit, routeDeclarations } from './rate-limit';
import { behindRouteAuth } from './request-guards';
import { routeAuthOf } from './route-auth';

/**
 * Serves one route declared by a Nest controller with a plain Fastify handler instead of Nest's
 * per-request machinery (execution context, guards, pipes, the response controller), for the
 * hottest routes of a drop when nothing per request needs that machinery. The route itself stays
 * Nest's: the OpenAPI document, HEAD for a GET, and every Fastify hook (request id, request
 * context, metrics, log line) are unchanged; only the handler is swapped.
 *
 * `handler` must give the Nest handler's answers exactly (each caller has a test that holds the two
 * to the same answers). It is a plain callback handler, not an async one: an async handler
 * returning `reply` makes its promise adopt the reply's `then`, which waits for the response stream
 * to finish. Call before the routes are registered (`app.init()`); the app refuses to start if the
 * route was not found, so a renamed route cannot quietly fall back to the slower path.
 */
export function serveDirectly<R extends FastifyRequest>(
  app: NestFastifyApplication,
  method: HTTPMethods,
  url: string,
  handler: (req: R, reply: FastifyReply) => void,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  let served = false;
  fastify.addHook('onRoute', (route) => {
    if (route.url !== url || route.method !== method) return;
    route.handler = handler as unknown as RouteHandlerMethod;
    served = true;
    servedRoutes.set(fastify, [...(servedRoutes.get(fastify) ?? []), `${method} ${url}`]);
  });
  fastify.addHook('onReady', (done) => {
    done(served ? undefined : new Error(`${method} ${url} was not found, so it cannot be served directly`));
  });
}

const servedRoutes = new WeakMap<object, string[]>();

/** The routes of `app` whose handler `serveDirectly` swapped, as "METHOD url" (the tests check which are). */
export function directlyServed(app: NestFastifyApplication): string[] {
  return [...(servedRoutes.get(app.getHttpAdapter().getInstance()) ?? [])];
}

/**
 * A directly served route's handler behind the global guards its Nest route passes, in Nest's
 * order, by what the controller's `method` it stands in for declares: its route auth
 * (behindRouteAuth, by routeAuthOf), then its rate limit (behindRateLimit, by routeDeclarations).
 * Nest's third global guard, the JSON body check, is a body route's own first step
 * (`checkJsonBody`). A route that declares neither, or runs with limits off, pays nothing for them.
 */
export function behindGuards<T, R extends FastifyRequest>(
  app: INestApplicationContext,
  controller: Type<T>,
  method: keyof T & string,
  handler: (req: R, reply: FastifyReply) => void,
): (req: R, reply: FastifyReply) => void {
  return behindRouteAuth(app, routeAuthOf(controller, method), behindRateLimit(app, routeDeclarations(controller, method), handler));
}
