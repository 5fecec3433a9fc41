import { partTag } from './sql-part';

describe('partTag', () => {
  it('writes a safe integer as its SQL literal', () => {
    expect(partTag(3)).toBe('3');
    expect(partTag(-1)).toBe('-1');
  });

  it.each([1.5, Number.NaN, Infinity, 2 ** 53, '3) OR (1' as unknown as number])('refuses %p, which would be written into the SQL', (part) => {
    expect(() => partTag(part)).toThrow(TypeError);
  });
});
