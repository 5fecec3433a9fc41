import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IDEMPOTENT_SCOPE } from '../http/rate-limit';
import { CheckoutController } from './checkout.controller';
import { serveHoldsDirectly } from './place-hold.route';

describe('serveHoldsDirectly', () => {
  it('refuses to start when CheckoutController.placeHold declares no Idempotency-Key scope', () => {
    const handler = Reflect.get(CheckoutController.prototype, 'placeHold') as object;
    const scope: unknown = Reflect.getMetadata(IDEMPOTENT_SCOPE, handler);
    expect(scope).toBe('holds');
    const app = { get: () => ({}) } as unknown as NestFastifyApplication;
    Reflect.deleteMetadata(IDEMPOTENT_SCOPE, handler);
    try {
      expect(() => serveHoldsDirectly(app)).toThrow('CheckoutController.placeHold declares no Idempotency-Key scope (@IdempotentScope)');
    } finally {
      Reflect.defineMetadata(IDEMPOTENT_SCOPE, scope, handler);
    }
  });
});
