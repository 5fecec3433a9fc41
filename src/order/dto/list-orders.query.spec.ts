import { ValidationFailedError } from '../../common/errors';
import { parseListOrdersQuery } from './list-orders.query';

describe('parseListOrdersQuery', () => {
  it('defaults to the first 50 orders', () => {
    expect(parseListOrdersQuery({})).toEqual({ limit: 50, afterId: 0 });
  });

  it('reads every filter and the cursor', () => {
    expect(parseListOrdersQuery({ status: 'paid', product_id: '7', limit: '200', after_id: '0' })).toEqual({
      status: 'paid',
      productId: 7,
      limit: 200,
      afterId: 0,
    });
  });

  it.each([
    [{ status: 'shipped' }, 'status'],
    [{ product_id: '0' }, 'product_id'],
    [{ product_id: '1.5' }, 'product_id'],
    [{ product_id: '99999999999999999999' }, 'product_id'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '201' }, 'limit'],
    [{ limit: '01' }, 'limit'],
    [{ limit: '' }, 'limit'],
    [{ after_id: '-1' }, 'after_id'],
    [{ after_id: 'abc' }, 'after_id'],
    [{ status: ['paid', 'pending'] }, 'status'],
    [{ page: '2' }, 'page'],
  ])('refuses %p', (query, field) => {
    try {
      parseListOrdersQuery(query);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as ValidationFailedError).details.map((d) => d.field)).toEqual([field]);
    }
  });
});
