import { allocate, availableUnits } from './availability';

describe('availability', () => {
  it('counts lapsed holds as free', () => {
    expect(availableUnits(10, 4, 0)).toBe(6);
    expect(availableUnits(10, 4, 3)).toBe(9);
    expect(availableUnits(10, 10, 10)).toBe(10);
  });
  it('grants in arrival order and never below zero', () => {
    expect(allocate(5, [2, 4, 3, 1])).toEqual({ granted: [true, false, true, false], seen: [5, 3, 3, 0], left: 0 });
    expect(allocate(0, [1])).toEqual({ granted: [false], seen: [0], left: 0 });
    expect(allocate(3, [])).toEqual({ granted: [], seen: [], left: 3 });
  });
});
