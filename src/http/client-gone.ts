import type { FastifyRequest } from 'fastify';

/**
 * Whether the client of `req` has left: its connection is closed (it gave up, or its connection
 * broke). Read when the answer is about to be decided, so work for a client that is gone (a hold
 * nobody will use) is not done; no listener is added per request.
 */
export function clientGone(req: FastifyRequest): () => boolean {
  const socket = req.raw.socket;
  return () => socket.destroyed;
}
