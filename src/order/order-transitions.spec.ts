import { transitionFor } from './order-transitions';

describe('order transitions', () => {
  it('moves only a pending order, once', () => {
    expect(transitionFor('pending', 'success')).toEqual({ from: 'pending', to: 'paid', stock: 'consume' });
    expect(transitionFor('pending', 'failure')).toEqual({ from: 'pending', to: 'cancelled', stock: 'release' });
    for (const final of ['paid', 'cancelled'] as const) {
      expect(transitionFor(final, 'success')).toBeUndefined();
      expect(transitionFor(final, 'failure')).toBeUndefined();
    }
  });
});
