import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The storefront (`/`, `index.html`) and the operator's view (`/admin.html`): plain HTML and
 * JavaScript files served as they are (@fastify/static), using only the HTTP API. Only the files
 * present at start are served (no wildcard route), so every other path keeps the contract's 404.
 */
export function serveStaticPages(app: NestFastifyApplication): void {
  app.useStaticAssets({ root: join(__dirname, 'public'), prefix: '/', wildcard: false, decorateReply: false, index: 'index.html', cacheControl: false });
}
