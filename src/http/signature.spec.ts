import { isValidSignature, signBody } from './signature';

describe('webhook signature', () => {
  const body = Buffer.from('{"idempotency_key":"evt_1","order_id":5,"status":"success"}');
  it('accepts the HMAC-SHA256 of the raw body', () => {
    expect(isValidSignature(signBody(body, 's3cret'), body, 's3cret')).toBe(true);
    expect(isValidSignature(signBody(body, 's3cret').toUpperCase().replace('SHA256=', 'sha256='), body, 's3cret')).toBe(true);
  });
  it('refuses a wrong key, a changed body, a bad format or no header', () => {
    expect(isValidSignature(signBody(body, 'other'), body, 's3cret')).toBe(false);
    expect(isValidSignature(signBody(body, 's3cret'), Buffer.from(body.toString() + ' '), 's3cret')).toBe(false);
    expect(isValidSignature('sha256=abc', body, 's3cret')).toBe(false);
    expect(isValidSignature(signBody(body, 's3cret').slice(7), body, 's3cret')).toBe(false);
    expect(isValidSignature(undefined, body, 's3cret')).toBe(false);
    expect(isValidSignature(['a'], body, 's3cret')).toBe(false);
  });
});
