import type { FastifyRequest } from 'fastify';

/**
 * Whether the client of `req` has left: it closed its side of the connection (an HTTP/1.1 client
 * only does that when it is done with the connection: it gave up), or the connection is gone. The
 * end of the client's side is seen as soon as it is read, a turn or two of the event loop before
 * the socket is destroyed. Read when the answer is about to be decided, so work for a client that
 * is gone (a hold nobody will use) is not done; no listener is added per request.
 */
export function clientGone(req: FastifyRequest): () => boolean {
  const socket = req.raw.socket;
  return () => socket.readableEnded || socket.destroyed;
}
