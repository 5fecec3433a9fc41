import { AsyncLocalStorage } from 'node:async_hooks';

/** What the JSON body parser learned about a request, read later by guards and the webhook. */
declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received: the webhook signature is computed over these bytes. */
    rawBody?: Buffer;
    /** The body was sent as JSON but does not parse; answered 400 after the auth checks. */
    invalidJson?: boolean;
    /** The body parses but names a key that would reach an object's prototype. */
    forbiddenKeys?: string[];
    /** The body parses but nests arrays or objects deeper than MAX_BODY_DEPTH. */
    bodyTooDeep?: boolean;
  }
}

/** An X-Request-Id the service keeps, and so every one it answers (a new UUID v4 matches it too). */
export const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The client's X-Request-Id when it is 1..128 characters of A-Z a-z 0-9 . _ -, else undefined. */
export function acceptedRequestId(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : undefined;
}

interface RequestContext {
  requestId: string;
}

/**
 * The request a piece of work belongs to, carried through its promises (Node 24's
 * AsyncLocalStorage follows async context frames, without the cost of async hooks). Services stay
 * singletons: the logger reads the request id from here, so every domain line of a request carries it.
 */
const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequestContext<T>(requestId: string, fn: () => T): T {
  return storage.run({ requestId }, fn);
}

/** The id of the request being served, or undefined outside a request (jobs, start-up). */
export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
