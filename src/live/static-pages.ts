import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';

/**
 * The contract's media type of a page file where @fastify/send's differs: send names JavaScript
 * `application/javascript`, docs/API.md (like RFC 9239 and the HTML standard) `text/javascript`.
 */
function setContractType(reply: FastifyReply, path: string): void {
  if (path.endsWith('.js')) reply.header('content-type', 'text/javascript; charset=utf-8');
}

/**
 * The storefront (`/`, `index.html`) and the operator's view (`/admin.html`): plain HTML and
 * JavaScript files served as they are (@fastify/static), using only the HTTP API. Only the files
 * present at start are served (no wildcard route), so every other path keeps the contract's 404.
 * Registered as the plugin itself rather than by `app.useStaticAssets`, whose options type still
 * describes the raw response that older @fastify/static passed to `setHeaders`; 10.x passes the
 * reply. A failed If-Match or If-Unmodified-Since is @fastify/send's 412, an error with its
 * status, which the exception filter answers as `bad_request` (toErrorResponse).
 */
export function serveStaticPages(app: NestFastifyApplication): void {
  void app.register(fastifyStatic, {
    root: join(__dirname, 'public'),
    prefix: '/',
    wildcard: false,
    decorateReply: false,
    index: 'index.html',
    cacheControl: false,
    // The files are a few KiB: a Range is ignored and the whole file sent (200), so no 206 or 416.
    acceptRanges: false,
    setHeaders: setContractType,
  });
}
