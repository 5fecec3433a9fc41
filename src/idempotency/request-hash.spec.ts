import { canonicalJson, isValidIdempotencyKey, requestHash } from './request-hash';

describe('request hash', () => {
  it('ignores key order and whitespace, not values', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(requestHash(JSON.parse('{"qty": 1, "product_id": 2}'))).toBe(requestHash({ product_id: 2, qty: 1 }));
    expect(requestHash({ product_id: 2, qty: 1 })).not.toBe(requestHash({ product_id: 2, qty: 2 }));
    expect(requestHash({ qty: 1 })).not.toBe(requestHash({ qty: '1' }));
  });
  it('accepts 1..255 printable ASCII characters as a key', () => {
    expect(isValidIdempotencyKey('a')).toBe(true);
    expect(isValidIdempotencyKey(' ~'.repeat(127) + 'x')).toBe(true);
    for (const bad of ['', 'x'.repeat(256), 'tab\there', 'é', undefined, ['a']]) expect(isValidIdempotencyKey(bad)).toBe(false);
  });
});
