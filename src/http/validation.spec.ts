import { ValidationFailedError } from '../common/errors';
import { parseId } from './validation';
import { acceptedRequestId } from '../common/request-context';

describe('parseId', () => {
  it('accepts decimal integers from 1 to 2^53-1', () => {
    expect(parseId('1', 'id')).toBe(1);
    expect(parseId('9007199254740991', 'id')).toBe(9007199254740991);
  });
  it.each(['0', '-1', '1.5', 'abc', '99999999999999999999', '9007199254740992', '01', '1e3', '', ' 1', '0x10'])('refuses %p', (raw) => {
    expect(() => parseId(raw, 'id')).toThrow(ValidationFailedError);
  });
});

describe('acceptedRequestId', () => {
  it('keeps 1..128 characters of A-Z a-z 0-9 . _ -', () => {
    expect(acceptedRequestId('req-1.a_B')).toBe('req-1.a_B');
    expect(acceptedRequestId('x'.repeat(128))).toBe('x'.repeat(128));
  });
  it('drops anything else', () => {
    for (const bad of ['', 'x'.repeat(129), 'a b', 'ü', 'a/b', undefined, ['a']]) expect(acceptedRequestId(bad as string)).toBeUndefined();
  });
});
