import { SetMetadata } from '@nestjs/common';

export type RouteAuth = 'admin' | 'webhook_signature';
export const ROUTE_AUTH = 'route_auth';

/** Admin routes need `Authorization: Bearer <ADMIN_TOKEN>`. */
export const AdminOnly = () => SetMetadata(ROUTE_AUTH, 'admin' satisfies RouteAuth);
/** The payment webhook needs `X-Signature: sha256=<hmac of the raw body>`. */
export const SignedWebhook = () => SetMetadata(ROUTE_AUTH, 'webhook_signature' satisfies RouteAuth);
