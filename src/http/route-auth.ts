import { SetMetadata, Type } from '@nestjs/common';

export type RouteAuth = 'admin' | 'webhook_signature' | 'buyer' | 'operator';
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
/**
 * The operator's listing of every buyer's orders: an admin route with BUYER_AUTH=jwt (buyers sign
 * in, so their orders are theirs and the operator's only); open to all with BUYER_AUTH=off, where
 * nothing is anybody's.
 */
export const OperatorListing = () => SetMetadata(ROUTE_AUTH, 'operator' satisfies RouteAuth);

/**
 * The authentication a controller's route handler `method` declares, on itself or else on its
 * controller, as RouteAuthGuard reads it on the Nest route (handler first, then class); undefined
 * when neither declares one. Routes answered outside Nest's router (serveDirectly) apply the
 * declaration of the handler they stand in for.
 */
export function routeAuthOf<T>(controller: Type<T>, method: keyof T & string): RouteAuth | undefined {
  const handler = (controller.prototype as T)[method] as object;
  return (Reflect.getMetadata(ROUTE_AUTH, handler) ?? Reflect.getMetadata(ROUTE_AUTH, controller)) as RouteAuth | undefined;
}
