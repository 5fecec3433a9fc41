import { transitionTo } from './order-transitions';

describe('order transitions', () => {
  it('moves only a pending order, once', () => {
    expect(transitionTo('pending', 'paid')).toEqual({ from: 'pending', to: 'paid', stock: 'consume' });
    expect(transitionTo('pending', 'cancelled')).toEqual({ from: 'pending', to: 'cancelled', stock: 'release' });
    for (const final of ['paid', 'cancelled'] as const) {
      expect(transitionTo(final, 'paid')).toBeUndefined();
      expect(transitionTo(final, 'cancelled')).toBeUndefined();
    }
  });
});
