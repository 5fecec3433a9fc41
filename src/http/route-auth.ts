import { SetMetadata } from '@nestjs/common';

export type RouteAuth = 'admin' | 'webhook_signature' | 'buyer';
export const ROUTE_AUTH = 'route_auth';

/** Admin routes need `Authorization: Bearer <ADMIN_TOKEN>`. */
export const AdminOnly = () => SetMetadata(ROUTE_AUTH, 'admin' satisfies RouteAuth);
/** The payment webhook needs `X-Signature: sha256=<hmac of the raw body>`. */
export const SignedWebhook = () => SetMetadata(ROUTE_AUTH, 'webhook_signature' satisfies RouteAuth);
/**
 * Buyer routes: with BUYER_AUTH=jwt they need `Authorization: Bearer <buyer JWT>`, and the request
 * knows its buyer (BuyerParam); with BUYER_AUTH=off they are anonymous (buyer null).
 */
export const BuyerRoute = () => SetMetadata(ROUTE_AUTH, 'buyer' satisfies RouteAuth);
