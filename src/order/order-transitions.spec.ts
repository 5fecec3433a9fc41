import { transitionTo } from './order-transitions';

describe('order transitions', () => {
  it('moves only a pending order, once', () => {
    expect(transitionTo('pending', 'paid')).toEqual({ from: 'pending', to: 'paid', stock: 'consume' });
    expect(transitionTo('pending', 'cancelled')).toEqual({ from: 'pending', to: 'cancelled', stock: 'release' });
    expect(transitionTo('pending', 'expired')).toEqual({ from: 'pending', to: 'expired', stock: 'release' });
    for (const final of ['paid', 'cancelled', 'expired'] as const) {
      expect(transitionTo(final, 'paid')).toBeUndefined();
      expect(transitionTo(final, 'cancelled')).toBeUndefined();
      expect(transitionTo(final, 'expired')).toBeUndefined();
    }
  });
});
