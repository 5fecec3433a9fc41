import { fromCents, isMoney, lineTotal, normalizeMoney, toCents } from './money';

describe('money', () => {
  it('multiplies exactly, with no float drift', () => {
    expect(lineTotal('19.95', 3)).toBe('59.85');
    expect(lineTotal('0.10', 3)).toBe('0.30');
    expect(lineTotal('99.00', 10)).toBe('990.00');
    expect(lineTotal('9999999999.99', 1000)).toBe('9999999999990.00');
  });
  it('accepts only two-place decimal strings', () => {
    expect(isMoney('49.99')).toBe(true);
    for (const bad of ['49.9', '49', '-1.00', '1e2', 49.99, '49.999', ' 1.00']) expect(isMoney(bad)).toBe(false);
  });
  it('round-trips cents', () => {
    expect(toCents('0.05')).toBe(5n);
    expect(fromCents(12345n)).toBe('123.45');
    expect(fromCents(5n)).toBe('0.05');
  });
  it('normalises driver decimals to two places', () => {
    expect(normalizeMoney('99.00')).toBe('99.00');
    expect(normalizeMoney('99.5')).toBe('99.50');
    expect(normalizeMoney('7')).toBe('7.00');
  });
});
