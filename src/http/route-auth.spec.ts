import 'reflect-metadata';
import { AdminOnly, BuyerRoute, routeAuthOf, SignedWebhook } from './route-auth';
import { behindRouteAuth } from './request-guards';
import type { INestApplicationContext } from '@nestjs/common';

class ShopController {
  @BuyerRoute()
  hold(): void {}

  @SignedWebhook()
  webhook(): void {}

  browse(): void {}
}

@AdminOnly()
class BackOfficeController {
  restock(): void {}

  @BuyerRoute()
  mine(): void {}
}

describe('routeAuthOf', () => {
  it("reads a route handler's declared authentication, then its controller's, as RouteAuthGuard does", () => {
    expect(routeAuthOf(ShopController, 'hold')).toBe('buyer');
    expect(routeAuthOf(ShopController, 'webhook')).toBe('webhook_signature');
    expect(routeAuthOf(ShopController, 'browse')).toBeUndefined();
    expect(routeAuthOf(BackOfficeController, 'restock')).toBe('admin');
    expect(routeAuthOf(BackOfficeController, 'mine')).toBe('buyer');
  });
});

describe('behindRouteAuth', () => {
  it('leaves the handler of a route that declares no authentication as it is, without looking up the guard', () => {
    const app = {
      get: () => {
        throw new Error('the guard was looked up');
      },
    } as unknown as INestApplicationContext;
    const handler = () => undefined;
    expect(behindRouteAuth(app, undefined, handler)).toBe(handler);
  });
});
